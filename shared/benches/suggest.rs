//! Suggestion quality and speed (issue 25), against the labelled fiches of
//! `fixtures/suggestions/`, beside a plain TF-IDF baseline measured in the same run.
//!
//! `cargo bench -p livret-shared --bench suggest`
//!
//! For each fiche: top-1 is right when the first suggestion is one of its primary labels;
//! recall@k is the share of its primary labels among the first k suggestions (averaged over
//! fiches). The suggestions are those a candidate sees (at most five, noise left out); the
//! baseline ranks every compétence by the cosine of TF-IDF vectors of folded words (no stems,
//! no trade words, no criteria weighting). Goal: recall@5 ≥ 0.8 and top-1 ≥ 0.6. Writes
//! `target/bench/suggest.json`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use livret_shared::referentiel::Referentiel;
use livret_shared::search::folded;
use livret_shared::suggest::Suggester;
use serde::Deserialize;

#[derive(Deserialize)]
struct EvalSet {
    referentiel: String,
    fiches: Vec<EvalFiche>,
}

#[derive(Deserialize)]
struct EvalFiche {
    split: String,
    #[serde(default)]
    intitule: String,
    #[serde(default)]
    contexte: String,
    #[serde(default)]
    problematique: String,
    #[serde(default)]
    taches: String,
    #[serde(default)]
    moyens: String,
    #[serde(default)]
    resultats: String,
    primary: Vec<String>,
}

impl EvalFiche {
    fn fields(&self) -> Vec<(String, String)> {
        [
            ("intitule", &self.intitule),
            ("contexte", &self.contexte),
            ("problematique", &self.problematique),
            ("taches", &self.taches),
            ("moyens", &self.moyens),
            ("resultats", &self.resultats),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    fiches: f64,
    top1: f64,
    recall3: f64,
    recall5: f64,
}

impl Tally {
    fn add(&mut self, ranked: &[String], primary: &[String]) {
        let found = |k: usize| {
            primary
                .iter()
                .filter(|p| ranked.iter().take(k).any(|r| r == *p))
                .count() as f64
                / primary.len().max(1) as f64
        };
        self.fiches += 1.0;
        self.top1 += f64::from(u8::from(
            ranked.first().is_some_and(|r| primary.contains(r)),
        ));
        self.recall3 += found(3);
        self.recall5 += found(5);
    }

    fn merge(&mut self, other: Tally) {
        self.fiches += other.fiches;
        self.top1 += other.top1;
        self.recall3 += other.recall3;
        self.recall5 += other.recall5;
    }

    fn row(&self) -> [f64; 3] {
        let n = self.fiches.max(1.0);
        [self.top1 / n, self.recall3 / n, self.recall5 / n]
    }
}

/// The baseline: TF-IDF vectors of folded words (common words dropped, the same list as
/// Livret's; sublinear tf and smoothed idf as scikit-learn's `TfidfVectorizer` makes them),
/// compared by cosine. Each compétence is its title, criteria, indicators and its bloc's
/// modalités: what Livret reads too, without stems, trade words or weights.
struct Baseline {
    codes: Vec<String>,
    vectors: Vec<HashMap<String, f64>>,
    idf: HashMap<String, f64>,
}

fn tokens(text: &str) -> Vec<String> {
    folded(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !livret_shared::suggest::text::is_stopword(w))
        .map(str::to_string)
        .collect()
}

impl Baseline {
    fn new(r: &Referentiel) -> Baseline {
        let docs: Vec<(String, Vec<String>)> = r
            .competences()
            .map(|(bloc, c)| {
                let mut text = c.title.clone();
                for line in &bloc.assessment {
                    text.push(' ');
                    text.push_str(line);
                }
                for k in &c.criteria {
                    text.push(' ');
                    text.push_str(&k.title);
                    for i in &k.indicators {
                        text.push(' ');
                        text.push_str(i);
                    }
                }
                (c.code.clone(), tokens(&text))
            })
            .collect();
        let n = docs.len() as f64;
        let mut df: HashMap<String, f64> = HashMap::new();
        for (_, words) in &docs {
            let mut unique = words.clone();
            unique.sort();
            unique.dedup();
            for w in unique {
                *df.entry(w).or_default() += 1.0;
            }
        }
        let idf: HashMap<String, f64> = df
            .into_iter()
            .map(|(w, d)| (w, ((1.0 + n) / (1.0 + d)).ln() + 1.0))
            .collect();
        let vectors = docs.iter().map(|(_, w)| vector(w, &idf)).collect();
        Baseline {
            codes: docs.into_iter().map(|(c, _)| c).collect(),
            vectors,
            idf,
        }
    }

    fn rank(&self, text: &str) -> Vec<String> {
        let q = vector(&tokens(text), &self.idf);
        let mut scored: Vec<(f64, &String)> = self
            .vectors
            .iter()
            .zip(&self.codes)
            .map(|(v, c)| (cosine(&q, v), c))
            .filter(|(s, _)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().map(|(_, c)| c.clone()).collect()
    }
}

fn vector(words: &[String], idf: &HashMap<String, f64>) -> HashMap<String, f64> {
    let mut tf: HashMap<String, f64> = HashMap::new();
    for w in words {
        *tf.entry(w.clone()).or_default() += 1.0;
    }
    tf.into_iter()
        .filter_map(|(w, n)| idf.get(&w).map(|i| (w, (1.0 + n.ln()) * i)))
        .collect()
}

fn cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(k, x)| b.get(k).map(|y| x * y)).sum();
    let norm = |v: &HashMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    let d = norm(a) * norm(b);
    if d == 0.0 { 0.0 } else { dot / d }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(root.join("suggestions"))
        .expect("fixtures/suggestions")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    sets.sort();
    println!(
        "{:<48} {:>6} {:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}",
        "set (split)", "fiches", "", "top-1", "R@3", "R@5", "top-1", "R@3", "R@5"
    );
    println!("{:<61} | {:^20} | {:^20}", "", "Livret", "TF-IDF baseline");
    let mut totals: HashMap<String, (Tally, Tally)> = HashMap::new();
    let mut timings: Vec<Duration> = Vec::new();
    let mut report = Vec::new();
    for path in sets {
        let set: EvalSet = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let referentiel: Referentiel = serde_json::from_str(
            &std::fs::read_to_string(
                root.join("referentiels/expected")
                    .join(format!("{}.json", set.referentiel)),
            )
            .unwrap(),
        )
        .unwrap();
        let suggester = Suggester::new(&referentiel);
        let baseline = Baseline::new(&referentiel);
        let mut per_split: HashMap<String, (Tally, Tally)> = HashMap::new();
        for fiche in &set.fiches {
            let fields = fiche.fields();
            let started = Instant::now();
            let ours: Vec<String> = suggester
                .suggest(&fields, None)
                .suggestions
                .into_iter()
                .map(|s| s.code)
                .collect();
            timings.push(started.elapsed());
            let text: Vec<&str> = fields.iter().map(|(_, v)| v.as_str()).collect();
            let theirs = baseline.rank(&text.join(" "));
            if std::env::var_os("SUGGEST_DEBUG").is_some()
                && fiche.split == "dev"
                && ours.first().is_none_or(|r| !fiche.primary.contains(r))
            {
                let scores = suggester.scores(&fields);
                let codes: Vec<String> = referentiel
                    .competences()
                    .map(|(_, c)| c.code.clone())
                    .collect();
                let mut ranked: Vec<(f32, &String)> = scores.iter().copied().zip(&codes).collect();
                ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
                println!(
                    "  miss {:?} ({}): ours {:?} baseline {:?}",
                    fiche.primary,
                    fiche.intitule,
                    &ranked[..ranked.len().min(5)],
                    &theirs[..theirs.len().min(3)]
                );
            }
            let entry = per_split.entry(fiche.split.clone()).or_default();
            entry.0.add(&ours, &fiche.primary);
            entry.1.add(&theirs, &fiche.primary);
        }
        let mut splits: Vec<_> = per_split.into_iter().collect();
        splits.sort_by(|a, b| a.0.cmp(&b.0));
        for (split, (ours, theirs)) in splits {
            print_row(&format!("{} ({split})", set.referentiel), ours, theirs);
            let total = totals.entry(split.clone()).or_default();
            total.0.merge(ours);
            total.1.merge(theirs);
            report.push(serde_json::json!({
                "set": set.referentiel, "split": split,
                "livret": ours.row(), "baseline": theirs.row(),
            }));
        }
    }
    let mut splits: Vec<_> = totals.into_iter().collect();
    splits.sort_by(|a, b| a.0.cmp(&b.0));
    for (split, (ours, theirs)) in &splits {
        print_row(&format!("ALL ({split})"), *ours, *theirs);
        let [o1, _, o5] = ours.row();
        let [b1, _, b5] = theirs.row();
        println!(
            "    {split}: Livret / baseline — top-1 {:.2}×, recall@5 {:.2}×",
            o1 / b1.max(1e-9),
            o5 / b5.max(1e-9)
        );
    }
    assert!(
        !timings.is_empty(),
        "no labelled fiche in fixtures/suggestions"
    );
    timings.sort();
    let at = |q: f64| timings[((timings.len() - 1) as f64 * q) as usize];
    println!(
        "suggestion time per fiche (native, release): median {:?}, p99 {:?}, max {:?} over {}",
        at(0.5),
        at(0.99),
        timings.last().unwrap(),
        timings.len()
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("suggest.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
}

fn print_row(name: &str, ours: Tally, theirs: Tally) {
    let [a, b, c] = ours.row();
    let [x, y, z] = theirs.row();
    println!(
        "{name:<48} {:>6} {:>5} | {a:>6.2} {b:>6.2} {c:>6.2} | {x:>6.2} {y:>6.2} {z:>6.2}",
        ours.fiches, ""
    );
}
