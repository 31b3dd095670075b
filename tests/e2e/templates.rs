//! Dossier templates as data (issue 20): checked with one line and exit 2, pinned in the
//! dossiers made with them (and in those the previous version made), printed section by
//! section in the template's order and words, in French and in English.

use std::path::{Path, PathBuf};
use std::process::Command;

use livret_shared::template::{self, Template};

use crate::support::{Relay, sample_dossier, temp_dir};

/// A device's `--home`, driven through the `livret` binary, exit codes included.
struct Home(PathBuf);

impl Home {
    fn new(label: &str) -> Home {
        Home(temp_dir(label))
    }

    /// (exit code, stdout, stderr).
    fn try_run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_livret"))
            .arg("--home")
            .arg(&self.0)
            .args(args)
            .output()
            .expect("livret runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn run(&self, args: &[&str]) -> String {
        let (code, out, err) = self.try_run(args);
        assert_eq!(code, 0, "livret {args:?} failed: {err}");
        out
    }

    fn dossiers(&self) -> usize {
        std::fs::read_dir(self.0.join("dossiers")).map_or(0, |d| d.count())
    }

    /// The template the dossier's JSON export names.
    fn template_of(&self, id: &str) -> String {
        let json = self.0.join(format!("{id}.json"));
        self.run(&["dossier", "export", id, "--json", json.to_str().unwrap()]);
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        value["modele"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The dossier printed, as `pdftotext` reads it, whitespace folded.
    fn printed(&self, id: &str, english: bool) -> String {
        let pdf = self.0.join(format!("{id}-{english}.pdf"));
        let mut args = vec!["export", id, "--pdf", pdf.to_str().unwrap()];
        if english {
            args.push("--english");
        }
        self.run(&args);
        let out = Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext runs");
        folded(&String::from_utf8_lossy(&out.stdout))
    }
}

fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A file that is no template this version reads gets one line naming the fault and exit
/// 2, from `template check` and from `dossier new --template`, which then makes nothing.
#[test]
fn a_faulty_template_gets_one_line_and_exit_2_and_nothing_is_made() {
    let relay = Relay::start();
    let home = Home::new("template-check");
    let dir = temp_dir("template-files");
    // A certifier starts from a shipped one.
    let shipped = home.run(&["template", "show", "dossier-validation-generique"]);
    let good = write(&dir, "bon.json", &shipped);
    let (code, said, _) = home.try_run(&["template", "check", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        said.contains("dossier-validation-generique") && said.contains("sections"),
        "{said}"
    );

    let mut unknown_kind: serde_json::Value = serde_json::from_str(&shipped).unwrap();
    unknown_kind["sections"][0]["fields"][1]["kind"] = "signature".into();
    let mut unknown_field: serde_json::Value = serde_json::from_str(&shipped).unwrap();
    unknown_field["sections"][2]["fields"][0]["key"] = "salaire".into();
    let cases = [
        (
            "type-inconnu.json",
            unknown_kind.to_string(),
            "« etat_civil.nom » : type de champ « signature » inconnu",
        ),
        (
            "champ-inconnu.json",
            unknown_field.to_string(),
            "champ « financement.salaire » inconnu de Livret",
        ),
        (
            "tronque.json",
            shipped[..shipped.len() / 2].to_string(),
            "modèle illisible",
        ),
        (
            "autre-format.json",
            r#"{"format": "livret-template/9", "id": "x"}"#.to_string(),
            "format de modèle « livret-template/9 » inconnu",
        ),
        ("vide.json", String::new(), "modèle illisible"),
    ];
    for (name, text, expected) in cases {
        let file = write(&dir, name, &text);
        let file = file.to_str().unwrap();
        let (code, out, err) = home.try_run(&["template", "check", file]);
        assert_eq!(code, 2, "{name}: {out} {err}");
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
        let (code, _, err) = home.try_run(&[
            "dossier",
            "new",
            "--relay",
            &relay.url(""),
            "--template",
            file,
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(home.dossiers(), 0, "{name}: nothing made");
    }
    let (code, _, err) = home.try_run(&["template", "check", "/nulle/part.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("fichier introuvable"), "{err}");
    let (code, _, err) = home.try_run(&[
        "dossier",
        "new",
        "--relay",
        &relay.url(""),
        "--template",
        "modele-qui-n-existe-pas",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("inconnu"), "{err}");
    assert_eq!(home.dossiers(), 0);

    // A good one makes a dossier pinned to it; without one, the référentiel's certifier's.
    let mine = home.run(&[
        "dossier",
        "new",
        "--relay",
        &relay.url(""),
        "--template",
        good.to_str().unwrap(),
    ]);
    assert_eq!(home.template_of(&mine), "dossier-validation-generique");
    let referentiel = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt");
    let own = home.run(&[
        "dossier",
        "new",
        "--relay",
        &relay.url(""),
        "--referentiel",
        referentiel.to_str().unwrap(),
    ]);
    assert_eq!(home.template_of(&own), "livret2-annexe5-rncp37827");
}

/// Two dossiers the previous version made (fixtures/home-v4-templates/README.md): opened
/// by this one, each pins the template that shows everything it showed, keeps all that was
/// typed, and prints; the other certification's names no certifier.
#[test]
fn dossiers_of_the_previous_version_pin_the_template_they_were_shown_with() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/home-v4-templates");
    let id = |name: &str| {
        std::fs::read_to_string(fixture.join(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let (own, other) = (id("own"), id("other"));
    let home = Home::new("templates-v4");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(fixture.join("candidate/."))
        .arg(&home.0)
        .status()
        .unwrap();
    assert!(copied.success());

    assert_eq!(home.template_of(&own), "livret2-annexe5-rncp37827");
    assert_eq!(home.template_of(&other), "dossier-validation-generique");
    for (path, value) in [
        ("etat_civil.nom", "Martin"),
        ("situation.statut", "en_poste"),
        ("financement.mode", "individuel"),
        (
            "motivation.lettre",
            "Je demande la validation de mon expérience d'architecte.",
        ),
        ("declaration.fraudes", "oui"),
    ] {
        assert_eq!(home.run(&["dossier", "get", &other, path]), value, "{path}");
    }
    let printed = home.printed(&other, false);
    for shown in [
        "Martin",
        "Je demande la validation de mon expérience d'architecte.",
        "☒ Individuel",
    ] {
        assert!(printed.contains(shown), "{shown} not printed");
    }
    for certifiers in ["SIMPLON", "300€"] {
        assert!(!printed.contains(certifiers), "{certifiers} printed");
    }
    let printed = home.printed(&own, false);
    assert!(printed.contains("n'avoir saisi que SIMPLON"));
}

/// Where each of the template's section titles is printed, in its order, searched from
/// `from`: `None` for the first one missing.
fn titles_in_order(text: &str, titles: &[&str], from: usize) -> Result<Vec<usize>, String> {
    let mut at = from;
    let mut found = Vec::new();
    for title in titles {
        match text[at..].find(title) {
            Some(i) => {
                found.push(at + i);
                at += i + title.len();
            }
            None => return Err(format!("« {title} » not printed after byte {at}")),
        }
    }
    Ok(found)
}

/// The sample dossier written to `template`, printed in both languages: the sommaire lists
/// every section of the template in its order, the body prints each with its title, and
/// under it the label of each question it asks — in the template's words for the language.
#[test]
fn the_printed_dossier_follows_its_template_section_by_section_in_both_languages() {
    let relay = Relay::start();
    let home = Home::new("templates-print");
    let sample: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample_dossier()).unwrap()).unwrap();
    // The fiches in another order than their blocs': a model presenting them bloc by bloc
    // prints them in its own.
    let mut sample = sample;
    sample["fiches"].as_array_mut().unwrap().reverse();
    let fiches: Vec<(String, String)> = sample["fiches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f["champs"][k].as_str().unwrap_or_default().to_string();
            (text("bloc"), folded(&text("intitule")))
        })
        .collect();
    for template in template::builtin() {
        let mut written = sample.clone();
        let file: serde_json::Value = serde_json::from_str(template.pinned).unwrap();
        written["modele"] = file;
        let path = write(
            &temp_dir("templates-print-json"),
            &format!("{}.json", template.id),
            &written.to_string(),
        );
        let id = home.run(&[
            "dossier",
            "import",
            path.to_str().unwrap(),
            "--relay",
            &relay.url(""),
        ]);
        assert_eq!(home.template_of(&id), template.id);
        for english in [false, true] {
            let printed = home.printed(&id, english);
            follows(template, &printed, english, &fiches);
            if template.certifier.is_empty() {
                assert!(!printed.contains("SIMPLON"), "{}", template.id);
            }
        }
    }
}

/// `fiches`: each fiche's (bloc, title), in the dossier's order.
fn follows(template: &Template, printed: &str, english: bool, fiches: &[(String, String)]) {
    let words = |fr: &'static str, en: &'static str| folded(if english { en } else { fr });
    let titles: Vec<String> = template
        .sections
        .iter()
        .map(|s| words(s.title_fr, s.title_en))
        .collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let context = format!("{} ({})", template.id, if english { "en" } else { "fr" });
    // In the sommaire, in order.
    let sommaire =
        titles_in_order(printed, &titles, 0).unwrap_or_else(|e| panic!("{context}: sommaire: {e}"));
    // In the body, each section's heading is the title's last mention before the next
    // section's heading (« Votre projet VAE » lists the letter and the CV before them).
    let mut body = vec![0; titles.len()];
    let mut end = printed.len();
    for (i, title) in titles.iter().enumerate().rev() {
        body[i] = printed[..end]
            .rfind(title)
            .filter(|at| at > sommaire.last().unwrap())
            .unwrap_or_else(|| panic!("{context}: « {title} » has no heading in the body"));
        end = body[i];
    }
    for (i, section) in template.sections.iter().enumerate() {
        // The sections laid out as forms: each question's label under its title.
        if matches!(section.key, "fiches" | "annexes" | "declaration") {
            continue;
        }
        let end = body.get(i + 1).copied().unwrap_or(printed.len());
        let part = &printed[body[i]..end];
        for field in section.fields {
            // A question asked after an answer the sample may not give.
            if template::asked_after(section.key, field.key).is_some() {
                continue;
            }
            let label = words(field.label_fr, field.label_en);
            assert!(
                part.contains(&label),
                "{context}: « {label} » not printed under « {} »",
                titles[i]
            );
        }
    }
    // The fiches in the order printed: bloc by bloc for a model that says so, else the
    // dossier's.
    let mut expected = fiches.to_vec();
    if template.fiches_by_bloc {
        expected.sort_by_key(|(bloc, _)| bloc.parse::<u32>().unwrap_or(u32::MAX));
    }
    let titles: Vec<&str> = expected.iter().map(|(_, title)| title.as_str()).collect();
    let fiches_at = template
        .sections
        .iter()
        .position(|s| s.key == "fiches")
        .unwrap();
    titles_in_order(printed, &titles, body[fiches_at])
        .unwrap_or_else(|e| panic!("{context}: fiches in order: {e}"));
}
