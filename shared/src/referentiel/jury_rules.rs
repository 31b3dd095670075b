//! The rules a référentiel states about its jury: how many members, how many professionals
//! and with how many years of experience, the share of members from outside, no tie with the
//! candidate, how early the documents must reach the jury. Read from the document's
//! sentences, worded however the certifier wrote them (« au moins 2 professionnels »,
//! « composé de 5 personnes », « Le taux de membres extérieurs est de 60 % », « la moitié
//! des jurés… »); a rule the document does not state stays `None`, never guessed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::search::folded;

/// What the référentiel requires of a jury. Each field is a minimum the document states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JuryRules {
    /// The jury has exactly this many members (« composé de 5 personnes »).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
    /// At least this many members are professionals of the trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_professionals: Option<u32>,
    /// The professionals have at least this many years of experience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_experience_years: Option<u32>,
    /// At least this share of the members (percent) come from outside the certifier and the
    /// assessing body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_external_percent: Option<u32>,
    /// No member may have (or have had) a tie with the candidate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_tie_with_candidate: bool,
    /// The candidate's documents reach the jury at least this many days before the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents_days_before: Option<u32>,
}

impl JuryRules {
    pub fn is_empty(&self) -> bool {
        *self == JuryRules::default()
    }
}

/// The rules stated anywhere in `text`; several statements of one rule (a référentiel
/// repeats it per voie d'accès or per bloc) keep the strictest.
pub fn read(text: &str) -> JuryRules {
    let mut rules = JuryRules::default();
    let folded = folded(&text.replace(['*', '_'], " "));
    // A PDF's text wraps sentences over lines: a sentence ends at a full stop, a list mark
    // or a blank line, never at a line's end.
    let sentences = folded
        .split("\n\n")
        .flat_map(|paragraph| paragraph.split(['.', ';', '•', '|']));
    for sentence in sentences {
        let words = words(sentence);
        if words.is_empty() {
            continue;
        }
        let has = |w: &str| words.iter().any(|x| x.starts_with(w));
        let about_jury = has("jury") || has("jure") || has("membre");
        if about_jury {
            read_members(&words, &mut rules);
            read_professionals(&words, &mut rules);
        }
        read_experience(&words, &mut rules);
        if has("exterieur") || has("externe") {
            read_external_share(&words, &mut rules);
        }
        if has("lien") && has("candidat") && (has("pas") || has("aucun") || has("sans")) {
            rules.no_tie_with_candidate = true;
        }
        if has("jury") || has("transm") || has("remis") || has("envoy") {
            read_documents_delay(&words, &mut rules);
        }
    }
    rules
}

/// A folded sentence's words: letters and digits, `%` on its own.
fn words(sentence: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in sentence.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if c == '%' {
                out.push("%".into());
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A number written in digits or in words (up to twelve: juries are small).
fn number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    let n = match word {
        "un" | "une" => 1,
        "deux" => 2,
        "trois" => 3,
        "quatre" => 4,
        "cinq" => 5,
        "six" => 6,
        "sept" => 7,
        "huit" => 8,
        "neuf" => 9,
        "dix" => 10,
        "onze" => 11,
        "douze" => 12,
        _ => return None,
    };
    Some(n)
}

fn keep_max(slot: &mut Option<u32>, n: u32) {
    *slot = Some(slot.map_or(n, |m| m.max(n)));
}

/// « composé de 5 personnes », « jury de trois membres ».
fn read_members(words: &[String], rules: &mut JuryRules) {
    for (i, w) in words.iter().enumerate() {
        let Some(n) = number(w) else { continue };
        let next = words.get(i + 1).map(String::as_str);
        let before = words.get(i.wrapping_sub(1)).map(String::as_str);
        // « de N personnes » without « au moins » / « minimum »: an exact size.
        let sized = matches!(next, Some("personnes" | "membres" | "jures"))
            && before == Some("de")
            && !words[..i].iter().any(|x| x == "moins" || x == "minimum")
            && !words
                .get(i + 2)
                .is_some_and(|x| x == "minimum" || x.starts_with("extern"));
        if sized && n > 1 {
            keep_max(&mut rules.members, n);
        }
    }
}

/// « au moins 2 professionnels », « 2 professionnels minimum », « 3 membres externes,
/// professionnels exerçant le métier ».
fn read_professionals(words: &[String], rules: &mut JuryRules) {
    for (i, w) in words.iter().enumerate() {
        let Some(n) = number(w) else { continue };
        let mut j = i + 1;
        while words
            .get(j)
            .is_some_and(|x| matches!(x.as_str(), "membres" | "externes" | "exterieurs"))
        {
            j += 1;
        }
        if words.get(j).is_some_and(|x| x.starts_with("professionnel")) {
            keep_max(&mut rules.min_professionals, n);
        }
    }
}

/// « à minima 2 années d'expérience », « une expérience de 3 ans », « 5 ans d'expérience ».
fn read_experience(words: &[String], rules: &mut JuryRules) {
    for (i, w) in words.iter().enumerate() {
        let Some(n) = number(w) else { continue };
        let unit = words.get(i + 1).map(String::as_str);
        if !matches!(unit, Some("ans" | "annees" | "annee" | "an")) {
            continue;
        }
        let after = words.get(i + 2..i + 5).unwrap_or_default();
        let before = &words[i.saturating_sub(3)..i];
        if after.iter().any(|x| x.starts_with("experience"))
            || before.iter().any(|x| x.starts_with("experience"))
        {
            keep_max(&mut rules.min_experience_years, n);
        }
    }
}

/// « au moins 50% des jurés sont extérieurs », « le taux de membres extérieurs est de 60 % »,
/// « la moitié au moins des membres sont extérieurs ».
fn read_external_share(words: &[String], rules: &mut JuryRules) {
    for (i, w) in words.iter().enumerate() {
        if words.get(i + 1).is_some_and(|x| x == "%")
            && let Some(n) = number(w).filter(|n| *n <= 100)
        {
            keep_max(&mut rules.min_external_percent, n);
        }
        if w == "moitie" {
            keep_max(&mut rules.min_external_percent, 50);
        }
    }
}

/// « au plus tard 5 jours avant la date de session ».
fn read_documents_delay(words: &[String], rules: &mut JuryRules) {
    for (i, w) in words.iter().enumerate() {
        let Some(n) = number(w) else { continue };
        let days = words.get(i + 1).is_some_and(|x| x == "jours")
            && words.get(i + 2).is_some_and(|x| x == "avant");
        let sent = words
            .iter()
            .any(|x| x.starts_with("transm") || x.starts_with("remis") || x.starts_with("envoy"));
        if days && sent {
            keep_max(&mut rules.documents_days_before, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_read_however_they_are_worded() {
        let r = read(
            "Le jury de certification est composé d'au moins **2 professionnels** avec à \
             minima **2 années d'expérience** professionnelle. Au moins 50% des jurés sont \
             extérieurs à l'organisme certificateur.\n\nLes membres du jury ne doivent pas \
             entretenir, ou avoir entretenu, un lien professionnel ou personnel avec le \
             candidat. Le responsable de session les transmet au jury au plus tard 5 jours \
             avant la date de session.",
        );
        assert_eq!(
            r,
            JuryRules {
                members: None,
                min_professionals: Some(2),
                min_experience_years: Some(2),
                min_external_percent: Some(50),
                no_tie_with_candidate: true,
                documents_days_before: Some(5),
            }
        );
        let r = read(
            "Le jury de certification est composé de cinq personnes :\n • trois membres \
             externes, professionnels exerçant le métier\n • deux représentants.\nLe taux de \
             membres extérieurs est de 60 %\nLes personnes exerçant le métier visé doivent \
             justifier d'une expérience de 3 ans.",
        );
        assert_eq!(r.members, Some(5));
        assert_eq!(r.min_professionals, Some(3));
        assert_eq!(r.min_external_percent, Some(60));
        assert_eq!(r.min_experience_years, Some(3));
        assert!(!r.no_tie_with_candidate);
        let r = read("La moitié au moins des membres du jury sont extérieurs à l'école.");
        assert_eq!(r.min_external_percent, Some(50));
        // Nothing stated, nothing invented: « 18 compétences », « jury professionnel ».
        let r = read(
            "Le candidat apporte la preuve de la validation des 18 compétences. Soutenance \
             finale devant un jury professionnel de 45 minutes.",
        );
        assert!(r.is_empty(), "{r:?}");
    }
}
