//! Which compétences does this fiche prove? Ranked suggestions, with their reasons, computed
//! on the device: nothing is sent anywhere and no model is downloaded.
//!
//! A candidate writes like a practitioner ("j'ai monté la chaîne Jenkins"), a référentiel like
//! an assessor ("met en œuvre l'intégration continue"). Both are read the same way — words
//! folded and stemmed ([`text`]), and the trade's words turned into the concepts they imply
//! (`lexicon.txt`: Jenkins → intégration continue) — then each compétence is scored as a
//! document made of its title, its criteria and indicators, and the modalités and épreuves
//! that assess it (BM25, the ranking search engines use), and again criterion by criterion.
//! Each suggestion carries the passages of the fiche and the criteria that made it, so the
//! candidate decides with reasons. An empty fiche, one in another language, or one close to
//! nothing gets no suggestion and a sentence saying why, rather than noise.

pub mod text;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

use crate::dossier::Dossier;
use crate::field_path::FieldPath;
use crate::referentiel::Referentiel;
use text::{Language, Word, language, words};

/// A fiche's fields as the suggestions read them: (field key, what is typed).
pub type FicheText = [(String, String)];

/// What a fiche's suggestions are computed from: its fields and the bloc chosen for it.
pub type FicheRead = (Vec<(String, String)>, Option<u32>);

/// The fields of a fiche that describe the activity, with how much each says about it: the
/// title names the activity, the tasks and the means are where practitioners put the
/// substance; the context mostly describes the company.
const FIELD_WEIGHTS: &[(&str, f32)] = &[
    ("intitule", 1.5),
    ("contexte", 0.6),
    ("problematique", 1.0),
    ("taches", 1.2),
    ("moyens", 1.0),
    ("resultats", 0.9),
];

/// The fiche at `place` of a dossier as the suggestions read it, and the bloc the candidate
/// chose for it (its first number: "2", "Bloc 2", "BC02").
pub fn fiche_of(dossier: &mut Dossier, place: usize) -> FicheRead {
    let mut read = |field: &str| {
        FieldPath::fiche(place, field)
            .map(|path| dossier.get_field(&path))
            .unwrap_or_default()
    };
    let text = FIELD_WEIGHTS
        .iter()
        .map(|(key, _)| (key.to_string(), read(key)))
        .collect();
    let bloc = read("bloc")
        .split(|c: char| !c.is_ascii_digit())
        .find(|n| !n.is_empty())
        .and_then(|n| n.parse().ok());
    (text, bloc)
}

/// The compétence codes the fiche at `place` claims (a cited criterion, `C5#2`, claims C5).
pub fn claimed_by(dossier: &mut Dossier, place: usize) -> Vec<String> {
    let stored = FieldPath::fiche(place, "competences")
        .map(|path| dossier.get_field(&path))
        .unwrap_or_default();
    let cited: Vec<String> = serde_json::from_str(&stored).unwrap_or_default();
    let mut codes: Vec<String> = Vec::new();
    for citation in &cited {
        let code = crate::referentiel::split_citation(citation).0.to_string();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// Every fiche of a dossier in the order shown, as [`fiche_of`] reads one, and the
/// compétence codes they claim.
pub fn fiches_of(dossier: &mut Dossier) -> (Vec<FicheRead>, Vec<String>) {
    let mut claimed = Vec::new();
    let fiches = dossier
        .fiche_order()
        .into_iter()
        .map(|place| {
            claimed.extend(claimed_by(dossier, place));
            fiche_of(dossier, place)
        })
        .collect();
    (fiches, claimed)
}

/// Fewer distinct meaningful words than this and the fiche is not yet written enough to
/// suggest anything honestly.
const MIN_FICHE_WORDS: usize = 8;

/// How many suggestions at most.
pub const MAX_SUGGESTIONS: usize = 5;

/// One suggested compétence and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The bloc's number.
    pub bloc: u32,
    pub code: String,
    pub title: String,
    /// How strongly the fiche points to it (only comparable within one fiche).
    pub score: f32,
    /// The criteria of the compétence the fiche matches best, best first.
    pub criteria: Vec<CriterionMatch>,
    /// The passages of the fiche that support it, best first.
    pub passages: Vec<Passage>,
}

/// A criterion the fiche matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionMatch {
    /// How a fiche cites it: `C5#2`, the compétence and the criterion's rank in it.
    pub reference: String,
    pub wording: String,
    /// The fiche's words that meet it, as the candidate typed them.
    pub words: Vec<String>,
}

/// A sentence of the fiche and the words of it that count for a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passage {
    /// The field it comes from (`taches`).
    pub field: String,
    pub text: String,
    pub words: Vec<String>,
}

/// Why there is nothing, or less than usual, to suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notice {
    /// The fiche has too few words yet.
    TooShort,
    /// The fiche is written in a language other than French or English.
    OtherLanguage,
    /// Nothing in the fiche comes close to a compétence.
    NothingClose,
    /// The référentiel gives no criteria: suggestions rest on the compétences' titles only.
    TitlesOnly,
}

impl Notice {
    /// The notice said to a candidate.
    pub fn in_language(self, english: bool) -> &'static str {
        match (self, english) {
            (Notice::TooShort, false) => {
                "Décrivez d'abord l'activité (quelques phrases sur ce que vous avez fait) : les \
                 suggestions viennent de votre texte."
            }
            (Notice::TooShort, true) => {
                "First describe the activity (a few sentences on what you did): the suggestions \
                 come from your text."
            }
            (Notice::OtherLanguage, false) => {
                "Cette fiche ne semble écrite ni en français ni en anglais : pas de suggestion, \
                 plutôt que des suggestions au hasard."
            }
            (Notice::OtherLanguage, true) => {
                "This sheet does not seem to be written in French or English: no suggestion, \
                 rather than random ones."
            }
            (Notice::NothingClose, false) => {
                "Rien dans cette fiche ne correspond encore clairement à une compétence du \
                 référentiel : précisez ce que vous avez fait, avec quels outils et pour qui."
            }
            (Notice::NothingClose, true) => {
                "Nothing in this sheet is close to a skill of the framework yet: say what you \
                 did, with which tools and for whom."
            }
            (Notice::TitlesOnly, false) => {
                "Ce référentiel ne donne pas de critères : les suggestions reposent sur les \
                 seuls intitulés des compétences."
            }
            (Notice::TitlesOnly, true) => {
                "This framework gives no criteria: the suggestions rest on the skills' titles \
                 only."
            }
        }
    }
}

/// The suggestions for one fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
    pub notice: Option<Notice>,
}

/// A référentiel read once for suggestions (reading it costs more than scoring a fiche).
pub struct Suggester {
    competences: Vec<CompetenceDoc>,
    idf: HashMap<String, f32>,
    average_length: f32,
    average_criterion_length: f32,
    has_criteria: bool,
}

struct CompetenceDoc {
    bloc: u32,
    code: String,
    title: String,
    terms: HashMap<String, f32>,
    length: f32,
    criteria: Vec<CriterionDoc>,
}

struct CriterionDoc {
    wording: String,
    terms: HashMap<String, f32>,
    length: f32,
}

/// How much each part of a compétence says about it. These weights were chosen on the
/// `dev` fiches of `fixtures/suggestions/` (a grid over them, BENCHMARKS.md); the `test`
/// fiches only measure.
const TITLE_WEIGHT: f32 = 1.0;
const CRITERION_WEIGHT: f32 = 1.0;
const INDICATOR_WEIGHT: f32 = 0.7;
const ASSESSMENT_WEIGHT: f32 = 0.3;
/// BM25's saturation and length normalisation, at their usual values.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Below this, the best compétence is not close enough to suggest anything.
const MIN_TOP_SCORE: f32 = 2.0;
/// A suggestion rests on at least this many distinct words of the fiche (a word and the
/// concept it implies are one piece of evidence): one shared word is chance.
const MIN_EVIDENCE: usize = 2;
/// Suggestions scoring under this share of the best are left out.
const RELATIVE_FLOOR: f32 = 0.35;
/// How much the best-matching criterion adds to the compétence as a whole.
const CRITERION_BONUS: f32 = 1.0;
/// A concept implied by a word counts less than the word written: it is a guess.
const CONCEPT_WEIGHT: f32 = 0.5;
/// A word written in exactly the référentiel's form counts a little on top of its stem (a
/// rare word shared as is — "PRA", "SLA", a product — says more than a shared stem).
const EXACT_WEIGHT: f32 = 0.3;

impl Suggester {
    pub fn new(referentiel: &Referentiel) -> Suggester {
        let mut competences = Vec::new();
        for bloc in &referentiel.blocs {
            let assessment: Vec<String> =
                bloc.assessment
                    .iter()
                    .map(|a| keys(a))
                    .fold(Vec::new(), |mut all, mut k| {
                        all.append(&mut k);
                        all
                    });
            for c in &bloc.competences {
                let mut terms = HashMap::new();
                add(&mut terms, &keys(&c.title), TITLE_WEIGHT);
                let mut criteria = Vec::new();
                for criterion in &c.criteria {
                    let mut own = HashMap::new();
                    add(&mut own, &keys(&criterion.title), CRITERION_WEIGHT);
                    for indicator in &criterion.indicators {
                        add(&mut own, &keys(indicator), INDICATOR_WEIGHT);
                    }
                    for (k, v) in &own {
                        *terms.entry(k.clone()).or_insert(0.0) += v;
                    }
                    criteria.push(CriterionDoc {
                        wording: criterion.title.clone(),
                        length: own.values().sum(),
                        terms: own,
                    });
                }
                add(&mut terms, &assessment, ASSESSMENT_WEIGHT);
                for e in referentiel.epreuves.iter().filter(|e| {
                    e.competences
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(&c.code))
                }) {
                    let about = e.livrable.iter().chain(&e.evaluation);
                    for line in about {
                        add(&mut terms, &keys(line), ASSESSMENT_WEIGHT);
                    }
                }
                competences.push(CompetenceDoc {
                    bloc: bloc.number,
                    code: c.code.clone(),
                    title: c.title.clone(),
                    length: terms.values().sum(),
                    terms,
                    criteria,
                });
            }
        }
        let n = competences.len() as f32;
        let mut df: HashMap<String, f32> = HashMap::new();
        for c in &competences {
            for k in c.terms.keys() {
                *df.entry(k.clone()).or_insert(0.0) += 1.0;
            }
        }
        let idf = df
            .into_iter()
            .map(|(k, d)| (k, (1.0 + (n - d + 0.5) / (d + 0.5)).ln()))
            .collect();
        let average = |lengths: Vec<f32>| {
            if lengths.is_empty() {
                1.0
            } else {
                (lengths.iter().sum::<f32>() / lengths.len() as f32).max(1.0)
            }
        };
        let average_length = average(competences.iter().map(|c| c.length).collect());
        let average_criterion_length = average(
            competences
                .iter()
                .flat_map(|c| c.criteria.iter().map(|k| k.length))
                .collect(),
        );
        let has_criteria = competences.iter().any(|c| !c.criteria.is_empty());
        Suggester {
            competences,
            idf,
            average_length,
            average_criterion_length,
            has_criteria,
        }
    }

    /// Every compétence of the référentiel scored against the fiche, in the référentiel's
    /// order (0 where nothing matches): what the récapitulatif compares across fiches.
    pub fn scores(&self, fiche: &FicheText) -> Vec<f32> {
        let query = Query::of(fiche);
        self.competences
            .iter()
            .map(|c| self.score(c, &query.weights))
            .collect()
    }

    /// The compétences this fiche most likely proves, with their reasons. `bloc`, when the
    /// candidate already chose one for the fiche, favours its compétences.
    pub fn suggest(&self, fiche: &FicheText, bloc: Option<u32>) -> Suggestions {
        let notice_only = |notice| Suggestions {
            suggestions: Vec::new(),
            notice: Some(notice),
        };
        let whole: String = fiche
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" \n");
        let language = language(&whole);
        if language == Some(Language::Other) {
            return notice_only(Notice::OtherLanguage);
        }
        let query = Query::of(fiche);
        let distinct_words = query.weights.keys().filter(|k| !k.starts_with('#')).count();
        if distinct_words < MIN_FICHE_WORDS {
            return notice_only(Notice::TooShort);
        }
        let mut scored: Vec<(usize, f32)> = self
            .competences
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let favoured = bloc == Some(c.bloc);
                let s = self.score(c, &query.weights);
                (i, if favoured { s * 1.3 } else { s })
            })
            .filter(|(i, s)| *s > 0.0 && query.evidence(&self.competences[*i]) >= MIN_EVIDENCE)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        // Noise is what stays far below the best, or a best that is itself weak.
        let top = scored.first().map_or(0.0, |s| s.1);
        if top < MIN_TOP_SCORE {
            return notice_only(Notice::NothingClose);
        }
        let suggestions = scored
            .into_iter()
            .take_while(|(_, s)| *s >= top * RELATIVE_FLOOR)
            .take(MAX_SUGGESTIONS)
            .map(|(i, s)| self.explain(&self.competences[i], s, &query, fiche))
            .collect();
        Suggestions {
            suggestions,
            notice: (!self.has_criteria).then_some(Notice::TitlesOnly),
        }
    }

    fn bm25(&self, terms: &HashMap<String, f32>, length: f32, average: f32, key: &str) -> f32 {
        let Some(tf) = terms.get(key) else {
            return 0.0;
        };
        let idf = self.idf.get(key).copied().unwrap_or(0.0);
        idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average))
    }

    fn score(&self, c: &CompetenceDoc, query: &HashMap<String, f32>) -> f32 {
        let whole: f32 = query
            .iter()
            .map(|(k, q)| q * self.bm25(&c.terms, c.length, self.average_length, k))
            .sum();
        let best_criterion = c
            .criteria
            .iter()
            .map(|crit| self.criterion_score(crit, query))
            .fold(0.0, f32::max);
        whole + CRITERION_BONUS * best_criterion
    }

    fn criterion_score(&self, crit: &CriterionDoc, query: &HashMap<String, f32>) -> f32 {
        query
            .iter()
            .map(|(k, q)| q * self.bm25(&crit.terms, crit.length, self.average_criterion_length, k))
            .sum()
    }

    fn explain(
        &self,
        c: &CompetenceDoc,
        score: f32,
        query: &Query,
        fiche: &FicheText,
    ) -> Suggestion {
        // What each shared word brings to this compétence: passages are ranked by it.
        let brings = |k: &str| self.bm25(&c.terms, c.length, self.average_length, k);
        let mut passages: Vec<(f32, Passage)> = query
            .sentences
            .iter()
            .filter_map(|s| {
                let mut worth = 0.0;
                let mut shown = Vec::new();
                let mut seen = Vec::new();
                for w in &s.words {
                    let b = brings(&w.stem);
                    if b > 0.0 && !seen.contains(&w.stem) {
                        worth += b;
                        seen.push(w.stem.clone());
                        push_unique(&mut shown, surface(fiche, s.field, w));
                    }
                }
                (worth > 0.0).then(|| {
                    (
                        worth,
                        Passage {
                            field: fiche[s.field].0.clone(),
                            text: shortened(&fiche[s.field].1[s.start..s.end]),
                            words: shown,
                        },
                    )
                })
            })
            .collect();
        passages.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut criteria: Vec<(f32, CriterionMatch)> = c
            .criteria
            .iter()
            .enumerate()
            .filter_map(|(i, crit)| {
                let s = self.criterion_score(crit, &query.weights);
                (s > 0.0).then(|| {
                    let mut shown = Vec::new();
                    for (field, w) in &query.all_words {
                        if crit.terms.contains_key(&w.stem) {
                            push_unique(&mut shown, surface(fiche, *field, w));
                        }
                    }
                    (
                        s,
                        CriterionMatch {
                            reference: format!("{}#{}", c.code, i + 1),
                            wording: crit.wording.clone(),
                            words: shown.into_iter().take(6).collect(),
                        },
                    )
                })
            })
            .collect();
        criteria.sort_by(|a, b| b.0.total_cmp(&a.0));
        Suggestion {
            bloc: c.bloc,
            code: c.code.clone(),
            title: c.title.clone(),
            score: (score * 100.0).round() / 100.0,
            criteria: criteria.into_iter().take(3).map(|(_, m)| m).collect(),
            passages: passages.into_iter().take(2).map(|(_, p)| p).collect(),
        }
    }
}

/// A compétence no fiche claims yet, with the fiches that most likely show it and what its
/// criteria ask, as writing prompts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub bloc: u32,
    pub code: String,
    pub title: String,
    /// The fiches (their numbers as shown, from 1) that most likely cover it, best first.
    pub fiches: Vec<usize>,
    /// What to describe: the compétence's criteria (its title when it has none).
    pub asks: Vec<String>,
}

impl Gap {
    /// "Pour C12, décrivez …", the first thing it asks.
    pub fn prompt(&self, english: bool) -> String {
        let ask = self.asks.first().map_or("", String::as_str);
        if english {
            format!(
                "For {}, describe a situation that shows: « {ask} »",
                self.code
            )
        } else {
            format!(
                "Pour {}, décrivez une situation qui montre : « {ask} »",
                self.code
            )
        }
    }
}

/// Blocs covered very unevenly: the best and the worst covered (bloc, covered, total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Uneven {
    pub best: (u32, usize, usize),
    pub worst: (u32, usize, usize),
}

impl Uneven {
    pub fn in_language(&self, english: bool) -> String {
        let (b, bc, bt) = self.best;
        let (w, wc, wt) = self.worst;
        if english {
            format!(
                "Uneven coverage: block {b} is covered {bc}/{bt}, block {w} only {wc}/{wt}. The \
                 jury validates block by block: describe activities of block {w} too."
            )
        } else {
            format!(
                "Couverture inégale : le bloc {b} est couvert à {bc}/{bt}, le bloc {w} à \
                 {wc}/{wt} seulement. Le jury valide bloc par bloc : décrivez aussi des \
                 activités du bloc {w}."
            )
        }
    }
}

/// How many criteria a gap lists as prompts, and fiches as likely cover.
const GAP_ASKS: usize = 3;
const GAP_FICHES: usize = 2;

impl Suggester {
    /// The compétences of the référentiel no fiche claims (`claimed`: the codes the fiches
    /// name), each with the fiches that most likely cover it: those suggesting it
    /// (`suggested`: each fiche's [`Suggester::suggest`], in the order shown), the ones
    /// ranking it first before the others.
    pub fn gaps(&self, suggested: &[Suggestions], claimed: &[String]) -> Vec<Gap> {
        self.competences
            .iter()
            .filter(|c| !claimed.iter().any(|x| x.eq_ignore_ascii_case(&c.code)))
            .map(|c| {
                let mut likely: Vec<(usize, usize)> = suggested
                    .iter()
                    .enumerate()
                    .filter_map(|(f, found)| {
                        let rank = found.suggestions.iter().position(|s| s.code == c.code)?;
                        Some((rank, f + 1))
                    })
                    .collect();
                likely.sort();
                Gap {
                    bloc: c.bloc,
                    code: c.code.clone(),
                    title: c.title.clone(),
                    fiches: likely
                        .into_iter()
                        .take(GAP_FICHES)
                        .map(|(_, f)| f)
                        .collect(),
                    asks: if c.criteria.is_empty() {
                        vec![c.title.clone()]
                    } else {
                        c.criteria
                            .iter()
                            .take(GAP_ASKS)
                            .map(|k| k.wording.clone())
                            .collect()
                    },
                }
            })
            .collect()
    }

    /// Whether the blocs are covered very unevenly (half the bloc's share apart or more),
    /// once the fiches claim something.
    pub fn uneven(&self, claimed: &[String]) -> Option<Uneven> {
        let mut blocs: Vec<(u32, usize, usize)> = Vec::new();
        for c in &self.competences {
            let covered = usize::from(claimed.iter().any(|x| x.eq_ignore_ascii_case(&c.code)));
            match blocs.iter_mut().find(|b| b.0 == c.bloc) {
                Some(b) => {
                    b.1 += covered;
                    b.2 += 1;
                }
                None => blocs.push((c.bloc, covered, 1)),
            }
        }
        let share = |b: &(u32, usize, usize)| b.1 as f32 / b.2.max(1) as f32;
        let best = *blocs.iter().max_by(|a, b| share(a).total_cmp(&share(b)))?;
        let worst = *blocs.iter().min_by(|a, b| share(a).total_cmp(&share(b)))?;
        (blocs.len() > 1 && share(&best) - share(&worst) >= 0.5).then_some(Uneven { best, worst })
    }
}

/// A fiche read for scoring: each key's weight, and its sentences for the passages.
struct Query {
    weights: HashMap<String, f32>,
    sentences: Vec<Sentence>,
    all_words: Vec<(usize, Word)>,
}

struct Sentence {
    /// Which field of the fiche (index into it).
    field: usize,
    start: usize,
    end: usize,
    words: Vec<Word>,
}

impl Query {
    /// How many distinct words of the fiche a compétence shares with it; a concept counts as
    /// the word that starts it, so "surveille" and the supervision it implies are one.
    fn evidence(&self, c: &CompetenceDoc) -> usize {
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (_, w) in &self.all_words {
            if c.terms.contains_key(&w.stem) {
                // A concept counts as the word that implies it (its `folded`).
                let concept = w.stem.starts_with('#');
                seen.insert(if concept { &w.folded } else { &w.stem });
            }
        }
        seen.len()
    }

    fn of(fiche: &FicheText) -> Query {
        let mut counts: HashMap<String, f32> = HashMap::new();
        let mut sentences = Vec::new();
        let mut all_words = Vec::new();
        for (field, (key, typed)) in fiche.iter().enumerate() {
            let Some(weight) = FIELD_WEIGHTS
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, w)| *w)
            else {
                continue;
            };
            for (start, end) in sentence_spans(typed) {
                let found = words(&typed[start..end]);
                for w in &found {
                    *counts.entry(exact_key(&w.folded)).or_insert(0.0) += weight * EXACT_WEIGHT;
                }
                let found = with_concepts(found);
                let found: Vec<Word> = found
                    .into_iter()
                    .map(|w| Word {
                        stem: w.stem,
                        folded: w.folded,
                        start: w.start + start,
                        end: w.end + start,
                    })
                    .collect();
                for w in &found {
                    let implied = if w.stem.starts_with('#') {
                        CONCEPT_WEIGHT
                    } else {
                        1.0
                    };
                    *counts.entry(w.stem.clone()).or_insert(0.0) += weight * implied;
                    all_words.push((field, w.clone()));
                }
                sentences.push(Sentence {
                    field,
                    start,
                    end,
                    words: found,
                });
            }
        }
        // Saying a thing five times does not prove it five times more.
        let weights = counts
            .into_iter()
            .map(|(k, n)| (k, if n > 1.0 { 1.0 + n.ln() } else { n }))
            .collect();
        Query {
            weights,
            sentences,
            all_words,
        }
    }
}

/// The sentences of a field: cut at full stops, line breaks, bullets and semicolons.
fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        let ends = matches!(c, '.' | '!' | '?' | ';' | '\n' | '•')
            // "node.js", "3.5": a dot between two letters or digits does not end a sentence.
            && !(c == '.'
                && text[at + 1..].chars().next().is_some_and(char::is_alphanumeric));
        if ends {
            if text[start..at].trim().len() > 1 {
                spans.push(trimmed(text, start, at));
            }
            start = at + c.len_utf8();
        }
    }
    if text[start..].trim().len() > 1 {
        spans.push(trimmed(text, start, text.len()));
    }
    spans
}

fn trimmed(text: &str, start: usize, end: usize) -> (usize, usize) {
    let slice = &text[start..end];
    let lead = slice.len() - slice.trim_start().len();
    let tail = slice.len() - slice.trim_end().len();
    (start + lead, end - tail)
}

/// A passage as shown: whole when short, else cut at a word with an ellipsis.
fn shortened(sentence: &str) -> String {
    const MAX: usize = 220;
    let cleaned = sentence.trim_start_matches(['-', '*', ' ']).trim();
    if cleaned.chars().count() <= MAX {
        return cleaned.to_string();
    }
    let cut: String = cleaned.chars().take(MAX).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", &cut[..at])
}

fn surface(fiche: &FicheText, field: usize, w: &Word) -> String {
    fiche[field].1[w.start..w.end].to_string()
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.iter().any(|x| x.eq_ignore_ascii_case(&item)) {
        list.push(item);
    }
}

/// The keys of a text: its stems, the concepts they imply and its words' exact forms.
fn keys(text: &str) -> Vec<String> {
    let found = words(text);
    let exact: Vec<String> = found.iter().map(|w| exact_key(&w.folded)).collect();
    let mut keys: Vec<String> = with_concepts(found).into_iter().map(|w| w.stem).collect();
    keys.extend(exact);
    keys
}

/// The key of a word's exact (folded) form, apart from stems and concepts.
fn exact_key(folded: &str) -> String {
    format!("={folded}")
}

fn add(terms: &mut HashMap<String, f32>, keys: &[String], weight: f32) {
    for k in keys {
        *terms.entry(k.clone()).or_insert(0.0) += weight;
    }
}

/// The trade's concepts, read once from `lexicon.txt`: each trigger's stems, indexed by its
/// first stem.
struct Lexicon {
    by_first: HashMap<String, Vec<(Vec<String>, String)>>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut by_first: HashMap<String, Vec<(Vec<String>, String)>> = HashMap::new();
        for line in include_str!("lexicon.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((concept, triggers)) = line.split_once(':') else {
                continue;
            };
            let key = format!("#{}", concept.trim());
            for trigger in triggers.split('|') {
                let stems: Vec<String> = words(trigger).into_iter().map(|w| w.stem).collect();
                if let Some(first) = stems.first().cloned() {
                    let entry = by_first.entry(first).or_default();
                    if !entry.iter().any(|(s, k)| *s == stems && *k == key) {
                        entry.push((stems, key.clone()));
                    }
                }
            }
        }
        Lexicon { by_first }
    })
}

/// `found` with the concepts its words imply added after them, each concept once per place,
/// spanning the words that imply it (so a passage can show them).
fn with_concepts(found: Vec<Word>) -> Vec<Word> {
    let lexicon = lexicon();
    let mut concepts: Vec<Word> = Vec::new();
    // Where each concept last ended: a concept implied twice by overlapping words is one.
    let mut ends: HashMap<&str, usize> = HashMap::new();
    for (i, w) in found.iter().enumerate() {
        let Some(triggers) = lexicon.by_first.get(&w.stem) else {
            continue;
        };
        let fitting: Vec<&(Vec<String>, String)> = triggers
            .iter()
            .filter(|(stems, _)| {
                found.len() >= i + stems.len()
                    && found[i..i + stems.len()]
                        .iter()
                        .zip(stems)
                        .all(|(w, s)| w.stem == *s)
            })
            .collect();
        // The longest trigger here wins: "intégration continue" is continuous integration,
        // not also the integration of systems its first word alone would imply.
        let longest = fitting
            .iter()
            .map(|(stems, _)| stems.len())
            .max()
            .unwrap_or(0);
        for (stems, concept) in fitting.into_iter().filter(|(s, _)| s.len() == longest) {
            if ends
                .get(concept.as_str())
                .is_some_and(|end| *end >= w.start)
            {
                continue;
            }
            let end = found[i + stems.len() - 1].end;
            ends.insert(concept, end);
            concepts.push(Word {
                stem: concept.clone(),
                folded: w.stem.clone(),
                start: w.start,
                end,
            });
        }
    }
    let mut all = found;
    all.extend(concepts);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fiche(taches: &str) -> Vec<(String, String)> {
        vec![("taches".to_string(), taches.to_string())]
    }

    fn referentiel() -> Referentiel {
        serde_json::from_str(include_str!(
            "../../../fixtures/referentiels/expected/002-developpeur-intelligence-artificielle-rncp37827.json"
        ))
        .expect("the fixture reads")
    }

    #[test]
    fn no_trigger_of_the_lexicon_shrinks_to_one_word_or_none() {
        // Common words inside a phrase fall on both sides alike ("base de données" is
        // "base données" in the fiche too), but a phrase left with one word ("mise à jour" →
        // "jour") would fire on everyday text ("chaque jour"), and a trigger left with none
        // ("si") does nothing.
        let mut lost = Vec::new();
        for line in include_str!("lexicon.txt").lines() {
            let Some((_, triggers)) = line.split_once(':').filter(|_| !line.starts_with('#'))
            else {
                continue;
            };
            for trigger in triggers.split('|') {
                let written = trigger
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .count();
                let kept = words(trigger).len();
                if kept == 0 || (written > 1 && kept < 2) {
                    lost.push(trigger.trim().to_string());
                }
            }
        }
        assert!(lost.is_empty(), "triggers shrinking: {lost:?}");
    }

    #[test]
    fn everyday_words_imply_no_trade_concept() {
        for everyday in [
            "chaque jour",
            "de mon point de vue",
            "sous forme de tableau",
            "prise en charge",
            "en train de",
            "j'ai utilisé",
        ] {
            let implied: Vec<String> = keys(everyday)
                .into_iter()
                .filter(|k| k.starts_with('#'))
                .collect();
            assert!(implied.is_empty(), "{everyday:?} implies {implied:?}");
        }
        let ci = keys("intégration continue");
        assert!(ci.contains(&"#integration-continue".to_string()));
        assert!(!ci.contains(&"#integration-systemes".to_string()), "{ci:?}");
    }

    #[test]
    fn a_tool_name_meets_the_practice_it_implies() {
        let keys = keys("J'ai configuré Jenkins et écrit des tests pytest");
        assert!(
            keys.contains(&"#integration-continue".to_string()),
            "{keys:?}"
        );
        assert!(keys.contains(&"#test".to_string()), "{keys:?}");
    }

    #[test]
    fn an_empty_a_foreign_or_an_unrelated_fiche_gets_a_reason_not_noise() {
        let s = Suggester::new(&referentiel());
        assert_eq!(s.suggest(&fiche(""), None).notice, Some(Notice::TooShort));
        let spanish = s.suggest(
            &fiche(
                "Desarrollé una aplicación para la gestión de los clientes con el equipo y \
                 entrené un modelo de clasificación de los datos de las ventas.",
            ),
            None,
        );
        assert_eq!(spanish.notice, Some(Notice::OtherLanguage));
        assert!(spanish.suggestions.is_empty());
        let baking = s.suggest(
            &fiche(
                "Chaque matin je pétris la pâte, je façonne les baguettes et les croissants, \
                 je surveille la cuisson du four à bois et je sers la clientèle du quartier \
                 avec le sourire.",
            ),
            None,
        );
        assert!(baking.suggestions.is_empty(), "{baking:?}");
        assert_eq!(baking.notice, Some(Notice::NothingClose));
    }

    #[test]
    fn an_uncovered_competence_points_to_the_fiche_that_shows_it_and_blocs_apart_are_said() {
        let s = Suggester::new(&referentiel());
        let monitoring = fiche(
            "J'ai mis en place le monitoring de l'application : logs centralisés dans Grafana, \
             alertes Prometheus sur les seuils de latence et d'erreurs, tableau de bord pour \
             l'équipe et détection des incidents en production.",
        );
        let suggested = s.suggest(&monitoring, None);
        let gaps = s.gaps(std::slice::from_ref(&suggested), &["C1".to_string()]);
        assert!(gaps.iter().all(|g| g.code != "C1"));
        let c20 = gaps
            .iter()
            .find(|g| g.code == "C20")
            .expect("C20 is uncovered");
        assert_eq!(c20.fiches, [1]);
        assert!(c20.prompt(false).starts_with("Pour C20, décrivez"));
        assert!(!c20.asks.is_empty());
        let c1 = s.gaps(&[suggested], &[]);
        let data = c1.iter().find(|g| g.code == "C1").expect("C1 is uncovered");
        assert!(data.fiches.is_empty(), "{data:?}");
        let first_eight: Vec<String> = (1..=8).map(|n| format!("C{n}")).collect();
        let uneven = s
            .uneven(&first_eight)
            .expect("bloc 1 whole, the others empty");
        assert_eq!(uneven.best.0, 1);
        assert_eq!(uneven.worst.1, 0);
        assert!(uneven.in_language(false).contains("Couverture inégale"));
        assert_eq!(
            s.uneven(&["C1".to_string(), "C9".to_string(), "C17".to_string()]),
            None
        );
    }

    #[test]
    fn a_referentiel_without_criteria_says_its_suggestions_rest_on_titles() {
        let titles_only: Referentiel = serde_json::from_str(include_str!(
            "../../../fixtures/referentiels/expected/003-expert-architecture-developpement-logiciel-rncp38822.json"
        ))
        .expect("the fixture reads");
        assert!(
            titles_only
                .competences()
                .all(|(_, c)| c.criteria.is_empty())
        );
        let found = Suggester::new(&titles_only).suggest(
            &fiche(
                "J'ai conçu l'architecture logicielle de la plateforme : découpage en \
                 microservices, choix des bases de données, sécurité des API et documentation \
                 du dossier d'architecture pour l'équipe de développement.",
            ),
            None,
        );
        assert_eq!(found.notice, Some(Notice::TitlesOnly));
        assert!(!found.suggestions.is_empty());
        assert!(found.suggestions.iter().all(|s| s.criteria.is_empty()));
    }

    #[test]
    fn each_suggestion_says_which_passages_and_criteria_support_it() {
        let s = Suggester::new(&referentiel());
        let found = s.suggest(
            &fiche(
                "J'ai mis en place la chaîne Jenkins qui lance les tests pytest à chaque merge \
                 request. Ensuite le modèle est packagé dans une image Docker et déployé sur le \
                 cluster Kubernetes.",
            ),
            None,
        );
        let first = found.suggestions.first().expect("a suggestion");
        assert!(!first.passages.is_empty());
        assert!(
            first.passages[0].text.contains("Jenkins") || first.passages[0].text.contains("Docker")
        );
        assert!(
            first
                .criteria
                .iter()
                .all(|c| c.reference.starts_with(&first.code))
        );
    }
}
