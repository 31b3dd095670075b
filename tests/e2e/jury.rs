//! The jury end to end, with the real CLI and a real relay: two jurors review the sample
//! dossier at the same time (annotations on a fiche and on a page of a PDF annexe, links,
//! ratings) and both views survive the sync; an annotation follows its passage when the
//! candidate moves it and is reported orphaned when the candidate deletes it; the decision
//! reaches the candidate, the reviews never do; the procès-verbal and the grille are read
//! back with pdftotext; forged writes and grants are refused by the relay, and the relay
//! never sees a word of the reviews.

use std::path::PathBuf;

use livret_shared::envelope::{self, Channel, DossierId, Header, Kind, random_nonce};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};

use crate::pdf::text;
use crate::support::{Relay, temp_dir};
use crate::sync::{Device, Raw, assert_relay_never_saw, rejected};

const CANARY_A: &str = "CANARI-jure-A-7d2e";
const CANARY_B: &str = "CANARI-jure-B-91f0";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/dossiers")
}

/// The sample dossier (référentiel 002), made by `candidate` on the relay at `url`.
pub(crate) fn import_sample(candidate: &Device, url: &str) -> String {
    let sample = fixtures().join("exemple-developpeuse-ia.json");
    candidate.run(&[
        "dossier",
        "import",
        sample.to_str().unwrap(),
        "--relay",
        url,
    ])
}

/// `juror` rates C1 `note` as `name` and syncs.
fn rate_c1_and_sync(juror: &Device, id: &str, name: &str, note: &str) {
    juror.run(&[
        "jury",
        "rate",
        id,
        "C1",
        note,
        "--justification",
        "vu",
        "--name",
        name,
    ]);
    juror.run(&["sync"]);
}

#[test]
fn two_jurors_review_concurrently_and_the_candidate_gets_only_the_decision() {
    let relay = Relay::start();
    let url = relay.url("");
    let dir = temp_dir("livret-jury");
    let candidate = Device::new("jury-candidat");
    let id = import_sample(&candidate, &url);
    let pdf_annexe = candidate.run(&[
        "dossier",
        "attach",
        &id,
        fixtures()
            .join("annexes/attestation-formation-rgpd.pdf")
            .to_str()
            .unwrap(),
        "--title",
        "Attestation de formation RGPD (fichier)",
    ]);
    assert_eq!(pdf_annexe, "7");
    let (alice, bruno) = (Device::new("jury-alice"), Device::new("jury-bruno"));
    candidate.share_with(&id, &alice, "juror", &url);
    candidate.share_with(&id, &bruno, "juror", &url);

    // Only jurors review.
    let (ok, err) = candidate.try_run(&["jury", "rate", &id, "C1", "3", "--justification", "x"]);
    assert!(!ok && err.contains("réservé aux jurés"), "{err}");

    // Both review at once, neither having synced since.
    let note = alice.run(&[
        "jury",
        "annotate",
        &id,
        "--field",
        "fiches.0.taches",
        "--quote",
        "écrire les scripts d'extraction",
        "--comment",
        &format!("Quels formats ? {CANARY_A}"),
        "--name",
        "Alice Durand",
    ]);
    assert_eq!(note.len(), 32, "an annotation id: {note}");
    alice.run(&["jury", "link", &id, "--fiche", "1", "C1,C2#1"]);
    alice.run(&[
        "jury",
        "rate",
        &id,
        "C1",
        "3",
        "--justification",
        "Scripts en production",
    ]);
    alice.run(&[
        "jury",
        "rate",
        &id,
        "C2",
        "2",
        "--justification",
        "Requêtes documentées",
    ]);
    // A passage that is not in the field, a compétence the référentiel lacks: refused.
    let (ok, err) = alice.try_run(&[
        "jury",
        "annotate",
        &id,
        "--field",
        "fiches.0.taches",
        "--quote",
        "introuvable",
        "--comment",
        "x",
    ]);
    assert!(!ok && err.contains("n'est pas dans"), "{err}");
    let (ok, err) = alice.try_run(&["jury", "link", &id, "--fiche", "1", "C99"]);
    assert!(!ok && err.contains("pas une compétence"), "{err}");

    // Bruno annotates a passage of the PDF's second page (the file fetched from the relay,
    // decrypted and read on his device, its lines broken elsewhere); it is not on page 1.
    let (ok, err) = bruno.try_run(&[
        "jury",
        "annotate",
        &id,
        "--annex",
        "7",
        "--page",
        "1",
        "--quote",
        "pseudonymisation d'un jeu de courriers",
        "--comment",
        "x",
    ]);
    assert!(!ok && err.contains("n'est pas à la page 1"), "{err}");
    bruno.run(&[
        "jury",
        "annotate",
        &id,
        "--annex",
        "7",
        "--page",
        "2",
        "--quote",
        "pseudonymisation d'un jeu de courriers numérisés",
        "--comment",
        &format!("Preuve de C4 {CANARY_B}"),
        "--name",
        "Bruno Petit",
    ]);
    // And a region of the dashboard image (annexe 6); a region outside the image is refused.
    let (ok, err) = bruno.try_run(&[
        "jury",
        "annotate",
        &id,
        "--annex",
        "6",
        "--region",
        "0.8,0.1,0.5,0.2",
        "--comment",
        "x",
    ]);
    assert!(!ok && err.contains("doit tenir dans l'image"), "{err}");
    bruno.run(&[
        "jury",
        "annotate",
        &id,
        "--annex",
        "6",
        "--region",
        "0.1,0.2,0.5,0.25",
        "--comment",
        "Le taux d'erreur affiché",
    ]);
    bruno.run(&["jury", "link", &id, "--annex", "7", "C4"]);
    bruno.run(&[
        "jury",
        "rate",
        &id,
        "C1",
        "1",
        "--justification",
        "Peu de sources",
    ]);

    // Alice syncs first and makes the jury key; Bruno adopts it; Alice reads Bruno's.
    alice.run(&["sync"]);
    bruno.run(&["sync"]);
    alice.run(&["sync"]);
    for juror in [&alice, &bruno] {
        let seen = juror.run(&["jury", "coverage", &id]);
        assert!(
            seen.contains("== Juré : Alice Durand") && seen.contains("== Juré : Bruno Petit"),
            "{seen}"
        );
        let merged = seen.split("== Jury (toutes les vues)").nth(1).unwrap();
        let c1 = merged.lines().find(|l| l.starts_with("C1 |")).unwrap();
        assert!(
            c1.contains("Alice Durand: 3 maîtrise")
                && c1.contains("Bruno Petit: 1 en cours d'acquisition")
                && c1.contains("DÉSACCORD")
                && c1.contains("Fiche n° 1 (Alice Durand)"),
            "{c1}"
        );
        let c4 = merged.lines().find(|l| l.starts_with("C4 |")).unwrap();
        assert!(c4.contains("Annexe 7 (Bruno Petit)"), "{c4}");
        let c5 = merged.lines().find(|l| l.starts_with("C5 |")).unwrap();
        assert!(c5.contains("LACUNE"), "{c5}");
        let notes = juror.run(&["jury", "annotations", &id]);
        assert!(
            notes.contains(&format!(
                "[Alice Durand] en place fiches.0.taches « écrire les scripts d'extraction » : Quels formats ? {CANARY_A}"
            )) && notes.contains(&format!(
                "[Bruno Petit] sur la pièce annexe 7 page 2 « pseudonymisation d'un jeu de courriers numérisés » : Preuve de C4 {CANARY_B}"
            )) && notes.contains(
                "[Bruno Petit] sur la pièce annexe 6 région 0.1,0.2,0.5,0.25 : Le taux d'erreur affiché"
            ),
            "{notes}"
        );
    }

    // The candidate moves the passage, then deletes it: the annotation follows, then is
    // orphaned — still listed with its quote.
    let taches = candidate.run(&["dossier", "get", &id, "fiches.0.taches"]);
    candidate.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        &format!("Cadrer le besoin avec le service courrier ; {taches}"),
    ]);
    candidate.run(&["sync"]);
    alice.run(&["sync"]);
    let notes = alice.run(&["jury", "annotations", &id]);
    assert!(
        notes.contains("[Alice Durand] déplacée (caractère")
            && notes.contains("« écrire les scripts d'extraction »"),
        "{notes}"
    );
    candidate.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Recenser les sources ; modéliser l'entrepôt PostgreSQL.",
    ]);
    candidate.run(&["sync"]);
    alice.run(&["sync"]);
    let notes = alice.run(&["jury", "annotations", &id]);
    assert!(
        notes.contains(
            "[Alice Durand] orpheline fiches.0.taches « écrire les scripts d'extraction »"
        ),
        "{notes}"
    );

    // Nothing released yet; the candidate reads no review and cannot ask for the jury key.
    candidate.run(&["sync"]);
    assert!(
        candidate
            .run(&["dossier", "decision", &id])
            .contains("pas encore")
    );
    let (ok, err) = candidate.try_run(&["jury", "coverage", &id]);
    assert!(!ok && err.contains("réservé aux jurés"), "{err}");

    // Alice records the jury's decision: C1 by majority is not acquired (one 3, one 1: not
    // more than half), the jury amends C1 and grants the whole of bloc 1.
    let outcome = alice.run(&[
        "jury",
        "decide",
        &id,
        "--date",
        "2026-12-14",
        "--acquired",
        "C1,C2,C3,C4,C5",
        "--reasons",
        "Bloc 1 démontré ; blocs 2 et 3 à compléter par une expérience de déploiement.",
    ]);
    assert_eq!(outcome, "Validation de blocs de compétences : bloc 1");
    alice.run(&["sync"]);
    candidate.run(&["sync"]);
    let decision = candidate.run(&["dossier", "decision", &id]);
    assert!(
        decision.contains("Validation de blocs de compétences : bloc 1")
            && decision.contains("Jury du 2026-12-14 : Alice Durand, Bruno Petit")
            && decision.contains("C1 : acquis")
            && decision.contains("C6 : non acquis")
            && decision.contains("Motifs : Bloc 1 démontré"),
        "{decision}"
    );

    // The official grid (ANNEXE 3), made by the candidate from what was released: every
    // compétence ticked ACQUIS or NON ACQUIS as decided, the decision marked, the comments.
    let grid = dir.join("grille-officielle.pdf");
    candidate.run(&["jury", "grille", &id, "--out", grid.to_str().unwrap()]);
    let grid_text = text(&grid, None, true);
    let results: Vec<(String, bool)> = decision
        .lines()
        .filter_map(|l| {
            let (code, result) = l.split_once(" : ")?;
            (code.starts_with('C') && code[1..].chars().all(|c| c.is_ascii_digit()))
                .then(|| (code.to_string(), result == "acquis"))
        })
        .collect();
    assert_eq!(results.len(), 21, "{decision}");
    for (code, yes) in &results {
        let line = grid_text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{code}. ")))
            .unwrap_or_else(|| panic!("{code} not in the grid:\n{grid_text}"));
        let ticked = if *yes { "☒ ACQUIS" } else { "☐ ACQUIS" };
        assert!(line.contains(ticked), "{code} ({yes}): {line}");
    }
    let squeezed = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let grid_words = squeezed(&grid_text);
    for expected in [
        "Grille d'évaluation individuelle RNCP",
        "Compétences Attendu Critère Acquis / Non acquis",
        "Nom du candidat : MARTIN",
        "Date de session : 14/12/2026",
        "☐ Admis ☐ Non admis ☒ Admission partielle",
        "Bloc 1 démontré",
        "Date et signatures de l'ensemble des membres du jury",
        "Alice Durand",
        "Bruno Petit",
    ] {
        assert!(
            grid_words.contains(expected),
            "{expected} not in the grid:\n{grid_text}"
        );
    }

    // The procès-verbal of this candidate alone (a session of one).
    let pv = dir.join("pv.pdf");
    candidate.run(&["jury", "pv", &id, "--out", pv.to_str().unwrap()]);
    let pv_text = squeezed(&text(&pv, None, false));
    for expected in [
        "PROCÈS VERBAL",
        "Nombre de candidats présents : 1",
        "Nombre de candidats admis partiellement : 1",
        "Nombre de candidats refusés : 0",
        "Camille",
        "MARTIN",
        "Non validés : bloc 2, bloc 3",
        "Alice Durand",
        "Bruno Petit",
        "14/12/2026",
    ] {
        assert!(
            pv_text.contains(expected),
            "{expected} not in the PV:\n{pv_text}"
        );
    }

    // Alice's grille: her ratings, the criteria and the evidence she linked.
    let grille = dir.join("grille.pdf");
    alice.run(&[
        "jury",
        "grille",
        &id,
        "--mine",
        "--date",
        "2026-12-14",
        "--out",
        grille.to_str().unwrap(),
    ]);
    // Cells wrap: compared with spaces and line breaks squeezed.
    let grille_text = text(&grille, None, false)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "Grille de travail du juré",
        "Membre du jury : Alice Durand",
        "Scripts en production",
        "Acquis (3 — maîtrise)",
        "Acquis (2 — acquis)",
        "Fiche n° 1",
        "Non évalué",
    ] {
        assert!(
            grille_text.contains(expected),
            "{expected} not in the grille:\n{grille_text}"
        );
    }
    let artifacts =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/livret-jury");
    std::fs::create_dir_all(&artifacts).unwrap();
    for dest in [&pv, &grid, &grille] {
        std::fs::copy(dest, artifacts.join(dest.file_name().unwrap())).unwrap();
    }

    // The candidate compacts the dossier's history: the relay's snapshot covers the
    // dossier's writers only, so the reviews stay. A third juror, added afterwards, is
    // granted each juror's review key at that juror's next sync, and reads their review.
    candidate.run(&["dossier", "compact", &id]);
    let claire = Device::new("jury-claire");
    candidate.share_with(&id, &claire, "juror", &url);
    let seen = claire.run(&["jury", "coverage", &id]);
    assert!(!seen.contains("Alice Durand"), "no key yet: {seen}");
    bruno.run(&["sync"]);
    claire.run(&["sync"]);
    let seen = claire.run(&["jury", "coverage", &id]);
    assert!(
        seen.contains("== Juré : Bruno Petit") && !seen.contains("Alice Durand"),
        "Bruno's key only: {seen}"
    );
    alice.run(&["sync"]);
    claire.run(&["sync"]);
    let seen = claire.run(&["jury", "coverage", &id]);
    assert!(
        seen.contains("== Juré : Alice Durand") && seen.contains("== Juré : Bruno Petit"),
        "{seen}"
    );

    // Hostile: a juror writing the dossier itself, a candidate writing a review, a juror
    // passing off an envelope as the other juror's, a grant to a non-juror, the candidate
    // asking for the jury's keys.
    let dossier = DossierId::from_hex(&id).unwrap();
    let alice_key = alice.secret();
    let epoch_key = alice.replica(&id).epoch_key().unwrap().duplicate();
    let mut raw = Raw::connect(&relay, &alice_key);
    // An envelope of `channel` signed by `device`, sealed with the dossier's key.
    let sealed_by = |device: &livret_shared::keys::DeviceSecret, channel| {
        let header = Header {
            dossier,
            epoch: 1,
            writer: device.signing_public(),
            counter: 99,
            parent: [0; 32],
            kind: Kind::Changes,
            channel,
        };
        envelope::seal(&header, &epoch_key, random_nonce(), b"x", device)
    };
    let forged = sealed_by(&alice_key, Channel::Dossier);
    assert_eq!(rejected(raw.push(&forged)), Rejection::Forbidden);
    let bruno_key = bruno.secret();
    let as_bruno = sealed_by(&bruno_key, Channel::Review);
    assert_eq!(rejected(raw.push(&as_bruno)), Rejection::Forbidden);
    let candidate_key = candidate.secret();
    raw.send(&ClientMsg::GrantJuryKey {
        dossier,
        epoch: 1,
        key_id: [0; 16],
        grants: vec![(candidate_key.signing_public(), vec![1; 64])],
    });
    assert_eq!(rejected(raw.reply()), Rejection::Forbidden);
    raw.send(&ClientMsg::GrantJuryKey {
        dossier,
        epoch: 1,
        key_id: [0; 16],
        grants: vec![(bruno_key.signing_public(), vec![1; 64 * 1024])],
    });
    assert_eq!(rejected(raw.reply()), Rejection::TooLarge);
    let mut as_candidate = Raw::connect(&relay, &candidate_key);
    let review = sealed_by(&candidate_key, Channel::Review);
    assert_eq!(rejected(as_candidate.push(&review)), Rejection::Forbidden);
    as_candidate.send(&ClientMsg::JuryKeys { dossier });
    assert_eq!(rejected(as_candidate.reply()), Rejection::Forbidden);
    // Alice's grants: one key for the epoch, granted to both jurors.
    raw.send(&ClientMsg::JuryKeys { dossier });
    match raw.reply() {
        ServerMsg::JuryKeys {
            key_id: Some(_),
            granted,
            grants,
            ..
        } => {
            // Alice's key went to the three jurors; she holds each juror's key: her own,
            // Bruno's and Claire's.
            assert_eq!(granted.len(), 3);
            assert_eq!(grants.len(), 3);
        }
        other => panic!("{other:?}"),
    }

    // Bruno, removed once the decision is released: his device wipes the dossier and keeps
    // the jury's decision, its own document.
    candidate.run(&["dossier", "remove", &id, &bruno.identity()]);
    let (ok, err) = bruno.try_run(&["sync"]);
    assert!(ok && err.contains("n'est plus membre du dossier"), "{err}");
    assert!(!bruno.has_copy(&id), "the removed juror's copy is wiped");
    let kept = bruno.run(&["dossier", "decision", &id]);
    assert!(
        kept.contains("Validation de blocs de compétences : bloc 1")
            && kept.contains("C1 : acquis"),
        "{kept}"
    );

    assert_relay_never_saw(
        &relay,
        &[
            CANARY_A,
            CANARY_B,
            "Alice Durand",
            "Scripts en production",
            "Bloc 1 démontré",
        ],
    );
}

/// The gap of the single jury key: a juror who synced first made the one key of the epoch
/// and could grant garbage to the others, who then sealed and read no review. Here a
/// hostile juror gives garbage before anyone: each other juror's own key is untouched, and
/// Alice and Bruno read each other's review through the real relay.
#[test]
fn a_hostile_juror_spoils_nothing_but_its_own_review() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("spoil-candidat");
    let id = import_sample(&candidate, &url);
    let (alice, bruno, hostile) = (
        Device::new("spoil-alice"),
        Device::new("spoil-bruno"),
        Device::new("spoil-hostile"),
    );
    for juror in [&hostile, &alice, &bruno] {
        candidate.share_with(&id, juror, "juror", &url);
    }
    let dossier = DossierId::from_hex(&id).unwrap();
    let mut raw = Raw::connect(&relay, &hostile.secret());
    raw.send(&ClientMsg::GrantJuryKey {
        dossier,
        epoch: 1,
        key_id: [0xee; 16],
        grants: [&alice, &bruno, &hostile]
            .iter()
            .map(|d| (d.secret().signing_public(), vec![0x55; 400]))
            .collect(),
    });
    assert!(matches!(raw.reply(), ServerMsg::JuryKeys { .. }));
    for (juror, name, note) in [(&alice, "Alice Durand", "3"), (&bruno, "Bruno Petit", "1")] {
        rate_c1_and_sync(juror, &id, name, note);
    }
    alice.run(&["sync"]);
    for juror in [&alice, &bruno] {
        let seen = juror.run(&["jury", "coverage", &id]);
        assert!(
            seen.contains("== Juré : Alice Durand") && seen.contains("== Juré : Bruno Petit"),
            "{seen}"
        );
    }
}

/// A juror on two devices is one juror (the gaps of a juror's two devices counting as two
/// jurors, and of a review not recoverable from another device): Alice's phone, added by
/// the candidate as another device of hers, reads the review she wrote on her laptop as her
/// own, writes on in it, and the laptop reads that; the jury counts her once.
#[test]
fn a_jurors_second_device_takes_up_her_review() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("appareils-candidat");
    let id = import_sample(&candidate, &url);
    let (laptop, phone, bruno) = (
        Device::new("appareils-alice-portable"),
        Device::new("appareils-alice-telephone"),
        Device::new("appareils-bruno"),
    );
    candidate.share_with(&id, &laptop, "juror", &url);
    candidate.share_with(&id, &bruno, "juror", &url);
    for (juror, name, note) in [(&laptop, "Alice Durand", "3"), (&bruno, "Bruno Petit", "1")] {
        rate_c1_and_sync(juror, &id, name, note);
    }
    // The candidate adds Alice's phone as hers; not as someone else's, and not twice.
    let (ok, err) = candidate.try_run(&[
        "dossier",
        "share",
        &id,
        &phone.identity(),
        "--role",
        "juror",
        "--device-of",
        &candidate.identity(),
    ]);
    assert!(!ok && err.contains("appareil d'un juré"), "{err}");
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &phone.identity(),
        "--role",
        "juror",
        "--device-of",
        &laptop.identity(),
    ]);
    phone.run(&["dossier", "open", &id, "--relay", &url]);
    let members = candidate.run(&["dossier", "members", &id]);
    assert!(members.contains("(appareil du juré"), "{members}");
    for juror in [&laptop, &bruno, &phone] {
        juror.run(&["sync"]);
    }
    let seen = phone.run(&["jury", "coverage", &id]);
    assert!(
        seen.contains("Alice Durand: 3 maîtrise") && seen.contains("Bruno Petit: 1"),
        "{seen}"
    );
    assert_eq!(seen.matches("== Juré : ").count(), 2, "{seen}");
    // The phone writes on in Alice's review; the laptop reads it as hers.
    phone.run(&[
        "jury",
        "rate",
        &id,
        "C2",
        "2",
        "--justification",
        "depuis le téléphone",
    ]);
    phone.run(&["sync"]);
    laptop.run(&["sync"]);
    let seen = laptop.run(&["jury", "coverage", &id]);
    let alice = seen
        .split("== Juré : ")
        .find(|v| v.starts_with("Alice Durand"))
        .unwrap();
    assert!(
        alice.contains("Alice Durand: 3 maîtrise") && alice.contains("Alice Durand: 2 acquis"),
        "{seen}"
    );
    assert_eq!(seen.matches("== Juré : ").count(), 2, "{seen}");
}
