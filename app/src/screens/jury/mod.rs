//! The jury's screens, shown to a juror only: annotations on the fields' passages, the
//! coverage matrix (compétences × fiches and annexes) where the juror links evidence and
//! rates each compétence, seen as their own, as another juror's or as the whole jury's with
//! the disagreements, and the decision released to the candidate. Everything goes into this
//! juror's own automerge documents ([`livret_shared::review::doc::JuryDoc`]), sealed for
//! the jury (the decision for the dossier's members) by the same save and sync as the
//! dossier's edits.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use livret_shared::field_path::FieldPath;
use livret_shared::review::anchor::{TextAnchor, char_index};
use livret_shared::review::doc::JuryDoc;
use livret_shared::review::{
    self, Annotation, Decision, Evidence, JurorReview, Level, Rating, Target, coverage,
};
use wasm_bindgen::JsCast;

use crate::clock::now_ms;
use crate::i18n::{en, t};
use crate::screens::editor::{EditorState, code_id, persist};
use crate::session;

mod annexe;
mod annotations;
mod decision;
mod matrix;

use annexe::*;
use annotations::*;
use decision::*;
use matrix::*;

pub(crate) use annotations::FieldAnnotations;

fn level_label(level: Level) -> &'static str {
    if en() {
        level.label_en()
    } else {
        level.label_fr()
    }
}

fn or_unnamed(name: &str) -> String {
    if name.is_empty() {
        t("juré sans nom", "unnamed juror").to_string()
    } else {
        name.to_string()
    }
}

/// One review as this juror reads it.
#[derive(Clone, PartialEq)]
struct Seen {
    /// The juror's key, hex: what the view selector names.
    key: String,
    review: JurorReview,
    mine: bool,
}

/// Every review this juror reads, its own first (empty until it writes).
fn all_reviews() -> Vec<Seen> {
    session::with_open(|r| {
        // A juror's devices write one review: the person's.
        let me = r.my_person();
        let mut seen: Vec<Seen> = r
            .reviews()
            .into_iter()
            .map(|(key, review)| Seen {
                key: hex::encode(key),
                review,
                mine: key == me,
            })
            .collect();
        if !seen.iter().any(|s| s.mine) {
            seen.push(Seen {
                key: hex::encode(me),
                review: JurorReview::default(),
                mine: true,
            });
        }
        seen.sort_by_key(|s| !s.mine);
        seen
    })
    .unwrap_or_default()
}

/// Changes this juror's review (named as the jury panel says) and saves it; sealed and sent
/// with the next save, like a keystroke.
fn write_review(
    st: EditorState,
    name: &str,
    change: impl FnOnce(&mut JuryDoc),
) -> Result<(), session::Error> {
    session::with_open(|r| {
        r.my_review().map(|doc| {
            if !name.trim().is_empty() {
                doc.set_name(name.trim());
            }
            change(doc);
        })
    })??;
    persist(st);
    Ok(())
}

/// Saves a new annotation of this juror on `target`, its body trimmed.
fn save_annotation(st: EditorState, target: Target, body: &str) -> Result<(), session::Error> {
    let annotation = Annotation {
        id: hex::encode(livret_shared::jury::new_key_id()),
        target,
        body: body.trim().to_string(),
        at_ms: now_ms(),
    };
    write_review(st, &juror_name(), |d| d.annotate(&annotation))
}

thread_local! {
    /// The juror's name as typed in the panel (the fields' annotations use it too).
    static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn juror_name() -> String {
    NAME.with(|n| n.borrow().clone())
}

/// A column of the matrix: a fiche (numbered as shown) or an annexe.
#[derive(Clone, PartialEq)]
struct Column {
    evidence: Evidence,
    short: String,
    long: String,
    /// For element ids.
    key: String,
}

fn columns(st: EditorState) -> Vec<Column> {
    let mut out: Vec<Column> = st
        .fiches
        .get()
        .into_iter()
        .enumerate()
        .map(|(i, place)| {
            let title = FieldPath::fiche(place, "intitule")
                .and_then(|title| session::with_open(|r| r.dossier().get_field(&title)).ok())
                .unwrap_or_default();
            Column {
                evidence: Evidence::Fiche(place),
                short: format!("F{}", i + 1),
                long: format!("{} {} — {title}", t("Fiche n°", "Sheet no."), i + 1),
                key: format!("f{place}"),
            }
        })
        .collect();
    out.extend(st.annexes.get().into_iter().map(|a| Column {
        evidence: Evidence::Annexe(a.numero),
        short: format!("A{}", a.numero),
        long: format!("{} {} — {}", t("Annexe n°", "Annex no."), a.numero, a.titre),
        key: format!("a{}", a.numero),
    }));
    out
}

/// The juror's panel: name, coverage matrix with links and ratings, annotations, decision.
#[component]
pub fn Examen() -> impl IntoView {
    let st = EditorState::get();
    let reviews = Memo::new(move |_| {
        st.revision.get();
        all_reviews()
    });
    let mine_name = reviews
        .get_untracked()
        .into_iter()
        .find(|s| s.mine)
        .map(|s| s.review.juror)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(session::my_name);
    NAME.with(|n| n.borrow_mut().clone_from(&mine_name));
    let name = RwSignal::new(mine_name);
    let status = RwSignal::new(None::<Result<String, String>>);
    let rename = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        NAME.with(|n| n.borrow_mut().clone_from(&value));
        // The name the other members see too (presence).
        session::set_my_name(&value);
        name.set(value.clone());
        if let Err(e) = write_review(st, &value, |_| {}) {
            status.set(Some(Err(e.to_string())));
        }
    };
    let locked = move || {
        st.revision.get();
        let (locked, key) =
            session::with_open(|r| (r.locked_reviews(), r.has_jury_key())).unwrap_or((0, true));
        (locked > 0 || !key).then(|| {
            view! {
                <p class="aide" data-testid="jury-cle">{t(
                    "La vue de chaque autre juré s'ouvrira quand sa clé sera reçue (à sa prochaine synchronisation).",
                    "Each other juror's view will open once their key is received (at their next sync).",
                )}</p>
            }
        })
    };
    view! {
        <section class="examen" aria-labelledby="titre-examen" data-testid="examen-jury">
            <h3 id="titre-examen">{move || t("Examen du jury", "Jury review")}</h3>
            <p class="aide">{move || t(
                "Vos annotations, vos liens entre preuves et compétences et vos notes restent ceux du jury : le candidat ne lit que la décision publiée. Chaque juré a sa propre vue ; aucune n'écrase celle d'un autre.",
                "Your annotations, links between evidence and skills and your ratings stay the jury's: the candidate reads only the decision released. Each juror has a view of their own; none overwrites another's.",
            )}</p>
            <label for="nom-jure">{move || t("Votre nom au jury", "Your name on the jury")}</label>
            <input type="text" id="nom-jure" prop:value=name on:change=rename autocomplete="name"/>
            {locked}
            {move || status.get().map(|s| match s {
                Ok(m) => view! { <p role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            })}
            <Matrice reviews=reviews status=status/>
            <AnnoterAnnexe/>
            <ListeAnnotations reviews=reviews/>
            <FormulaireDecision reviews=reviews/>
        </section>
    }
}
