//! Words as the suggestions compare them: folded (case, accents), elisions cut (l', d', qu'),
//! common words dropped, and reduced to a stem so that "déployé", "déploiement" and "deploy"
//! meet. One light stemmer serves French and English: a candidate's fiche mixes both
//! ("j'ai mis en place le monitoring"), and a heavier, per-language one would split the same
//! word in two.

use crate::search::folded;

/// One word of a text: its stem and where it sits in the text (byte range), so a passage can
/// be shown with the words that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub stem: String,
    /// The word as written, folded ("déployées" → "deployees"): the exact form, which says
    /// a little more than the stem when both sides share it. For a concept (a `stem` such
    /// as `#test`), the stem of the word that implies it.
    pub folded: String,
    pub start: usize,
    pub end: usize,
}

/// The words of `text` that carry meaning, stemmed, in order.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        // Letters and digits make words; an apostrophe ends an elision ("l'écoute"), a hyphen
        // or a dot splits compounds and versions alike ("gitlab-ci", "node.js").
        if c.is_alphanumeric() || is_combining_mark(c) {
            start.get_or_insert(at);
        } else if let Some(s) = start.take() {
            push_word(&text[s..at], s, &mut out);
        }
    }
    out
}

/// An accent typed as its own code point (text pasted from macOS or a PDF: "e" then U+0301):
/// part of the word, dropped when folded.
fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

fn push_word(raw: &str, start: usize, out: &mut Vec<Word>) {
    let word = folded(raw);
    let digits = word.chars().all(|c| c.is_ascii_digit());
    // Short numbers are quantities; four digits and more name things too (ISO 27001).
    if word.chars().count() < 2 || is_stopword(&word) || (digits && word.len() < 4) {
        return;
    }
    out.push(Word {
        stem: stem(&word),
        folded: word,
        start,
        end: start + raw.len(),
    });
}

/// Suffixes removed, longest first, when at least four letters remain: derivational ones that
/// French and English share or mirror ("-ation", "-ement"/"-ment", "-ité"/"-ity"), then the
/// inflections of verbs, plurals and the feminine.
const SUFFIXES: &[&str] = &[
    "issements",
    "issement",
    "ications",
    "ication",
    "ations",
    "ation",
    "ements",
    "ement",
    "ments",
    "ment",
    "ities",
    "ity",
    "ites",
    "ite",
    "iques",
    "ique",
    "ical",
    "ables",
    "able",
    "ibles",
    "ible",
    "euses",
    "euse",
    "eurs",
    "eur",
    "ings",
    "ing",
    "ers",
    "ees",
    "ent",
    "ait",
    "ez",
    "er",
    "es",
    "ee",
    "ed",
    "e",
    "s",
    "x",
];

/// Words whose suffix is their meaning: "formation" peeled would be "form", the stem of
/// "forme" ("sous forme de").
const KEPT_WHOLE: &[(&str, &str)] = &[
    ("formation", "formation"),
    ("formations", "formation"),
    ("formateur", "formation"),
    ("formatrice", "formation"),
];

/// The stem of a folded word.
pub fn stem(word: &str) -> String {
    if let Some((_, kept)) = KEPT_WHOLE.iter().find(|(w, _)| *w == word) {
        return kept.to_string();
    }
    let mut w = word.to_string();
    // Proper technical names stay whole ("k8s", "s3", "pytest").
    if w.chars().any(|c| c.is_ascii_digit()) {
        return w;
    }
    // Peeled until nothing more comes off ("documentation" → "document" → "docu", the
    // stem "document" reaches too), at most three times.
    for _ in 0..3 {
        let Some(suffix) = SUFFIXES
            .iter()
            .find(|s| w.len() >= s.len() + 4 && w.ends_with(*s))
        else {
            break;
        };
        w.truncate(w.len() - suffix.len());
    }
    // "deploy" and "déploie" are one stem.
    if w.ends_with('y') {
        w.pop();
        w.push('i');
    }
    w
}

/// Words too common to say anything about a compétence, in French and English, folded.
const STOPWORDS: &[&str] = &[
    // French
    "a",
    "ai",
    "au",
    "aux",
    "avec",
    "ce",
    "ces",
    "cet",
    "cette",
    "ceux",
    "chaque",
    "comme",
    "dans",
    "de",
    "des",
    "du",
    "elle",
    "elles",
    "en",
    "entre",
    "est",
    "et",
    "etc",
    "ete",
    "etre",
    "eu",
    "il",
    "ils",
    "je",
    "j",
    "l",
    "la",
    "le",
    "les",
    "leur",
    "leurs",
    "lui",
    "ma",
    "mais",
    "me",
    "mes",
    "moi",
    "mon",
    "ne",
    "nos",
    "notre",
    "nous",
    "on",
    "ou",
    "par",
    "pas",
    "pour",
    "plus",
    "qu",
    "que",
    "qui",
    "sa",
    "se",
    "ses",
    "si",
    "son",
    "sont",
    "sur",
    "ta",
    "te",
    "tes",
    "toi",
    "ton",
    "tous",
    "tout",
    "toute",
    "toutes",
    "tu",
    "un",
    "une",
    "vos",
    "votre",
    "vous",
    "y",
    "d",
    "c",
    "s",
    "n",
    "m",
    "t",
    "afin",
    "ainsi",
    "aussi",
    "avoir",
    "avait",
    "avons",
    "etait",
    "fait",
    "faire",
    "ont",
    "puis",
    "sans",
    "tres",
    "deja",
    "lors",
    "dont",
    "cela",
    "celle",
    "celui",
    "meme",
    "autre",
    "autres",
    "permet",
    "permettant",
    "permettre",
    "mis",
    "place",
    "ensemble",
    "cadre",
    "partir",
    "selon",
    "notamment",
    "egalement",
    "etaient",
    "suis",
    "sommes",
    "avais",
    "avions",
    "apres",
    "avant",
    "pendant",
    "depuis",
    "bien",
    "ici",
    "quand",
    "alors",
    "donc",
    "car",
    "chez",
    "vers",
    "chacun",
    "chacune",
    "plusieurs",
    "certains",
    "certaines",
    "nouveau",
    "nouvelle",
    "nouveaux",
    "nouvelles",
    "premier",
    "premiere",
    "niveau",
    "type",
    "types",
    "cas",
    "quelques",
    "beaucoup",
    "peu",
    // English
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "been",
    "by",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "her",
    "his",
    "i",
    "in",
    "into",
    "is",
    "it",
    "its",
    "my",
    "of",
    "or",
    "our",
    "she",
    "so",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "we",
    "were",
    "which",
    "while",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
    "also",
    "all",
    "about",
    "after",
    "before",
    "each",
    "than",
    "up",
    "out",
    "when",
    "what",
    "did",
    "do",
    "does",
    "done",
    "not",
    "no",
    "can",
    "could",
    "used",
    "using",
    "use",
    "new",
    "over",
    "some",
];

/// Whether a folded word is one of the common words the suggestions drop.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Which language a text is written in, as far as the suggestions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    French,
    English,
    /// Another language (Spanish, German, Italian, Portuguese…): comparing its words with a
    /// French référentiel would only make noise.
    Other,
}

/// The language of `text`, from its most common words: `None` when it is too short to say.
pub fn language(text: &str) -> Option<Language> {
    // Words each language has and its neighbours do not ("de", "la", "en", "un" are
    // Spanish or Italian as well as French, so they decide nothing).
    const FRENCH: &[&str] = &[
        "le", "les", "des", "du", "et", "une", "pour", "dans", "avec", "sur", "est", "j", "ai",
        "nous", "au", "aux", "qui", "que", "l", "d", "par", "mon", "mes", "ce", "cette", "ete",
        "ont", "sont", "je", "ou", "pas",
    ];
    const ENGLISH: &[&str] = &[
        "the", "and", "of", "to", "in", "for", "with", "is", "was", "i", "we", "an", "my", "our",
        "this", "that", "by", "as", "at", "from",
    ];
    // Only words a French or English fiche does not write ("y", "os", "per", "com", "del",
    // "die" do appear in them: "il y a", an OS, "1 snapshot per VM", "acme.com").
    const OTHERS: &[&str] = &[
        // Spanish, Portuguese, Italian, German
        "el", "los", "las", "para", "una", "como", "pero", "muy", "esta", "fue", "uma", "nao",
        "gli", "che", "della", "sono", "und", "ist", "mit", "fur", "ich", "wir", "nicht", "eine",
        "auf", "von", "dem", "das", "der",
    ];
    let mut counts = [0usize; 3];
    let mut total = 0usize;
    for raw in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = folded(raw);
        total += 1;
        for (i, list) in [FRENCH, ENGLISH, OTHERS].iter().enumerate() {
            if list.contains(&w.as_str()) {
                counts[i] += 1;
            }
        }
    }
    if total < 6 || counts.iter().sum::<usize>() < 3 {
        return None;
    }
    let [fr, en, other] = counts;
    // Another language only when its words clearly outnumber French and English together: a
    // franglais note with a few foreign-looking tokens is still a fiche to read.
    Some(if other >= 3 && other >= 2 * (fr + en) {
        Language::Other
    } else if en > fr {
        Language::English
    } else {
        Language::French
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.stem).collect()
    }

    #[test]
    fn inflections_and_both_languages_meet_on_one_stem() {
        let deploy = stem("deploy");
        for w in [
            "déployé",
            "déployer",
            "déploie",
            "deployed",
            "deploying",
            "deploys",
        ] {
            assert_eq!(stem(&folded(w)), deploy, "{w}");
        }
        assert_eq!(stem("tests"), stem("tester"));
        assert_eq!(stem("testing"), stem("test"));
        assert_eq!(stem("besoins"), stem("besoin"));
        assert_eq!(stem("documentation"), stem("document"));
        assert_eq!(stem("conceptions"), stem("conception"));
    }

    #[test]
    fn an_accent_typed_apart_is_part_of_its_word() {
        let decomposed = "de\u{301}ploye\u{301} sur le cluster";
        let found = words(decomposed);
        assert_eq!(found[0].stem, stem("deploye"));
        assert_eq!(
            &decomposed[found[0].start..found[0].end],
            "de\u{301}ploye\u{301}"
        );
    }

    #[test]
    fn elisions_and_common_words_fall_away_and_positions_are_kept() {
        let text = "J'ai animé l'atelier d'écoute";
        let found = words(text);
        assert_eq!(
            found
                .iter()
                .map(|w| &text[w.start..w.end])
                .collect::<Vec<_>>(),
            ["animé", "atelier", "écoute"]
        );
        assert_eq!(stems("les tests et le test"), [stem("test"), stem("test")]);
        assert!(stems("k8s node.js").contains(&"k8s".to_string()));
    }

    #[test]
    fn the_language_is_told_from_common_words() {
        assert_eq!(
            language("J'ai mis en place une chaîne d'intégration continue pour l'équipe."),
            Some(Language::French)
        );
        assert_eq!(
            language(
                "I set up the continuous integration pipeline for our team and wrote the tests."
            ),
            Some(Language::English)
        );
        assert_eq!(
            language("Desarrollé una aplicación para la gestión de los clientes con el equipo."),
            Some(Language::Other)
        );
        assert_eq!(
            language("Ich habe die Anwendung für die Kunden mit dem Team entwickelt und getestet."),
            Some(Language::Other)
        );
        assert_eq!(language("Docker"), None);
        // Franglais and terse notes with foreign-looking tokens stay French.
        assert_eq!(
            language(
                "Migration de l'OS de 40 serveurs (RHEL 7 → 9), y compris les scripts Ansible ; \
                 1 snapshot per VM ; doc sur wiki.acme.com, on a tout validé avec l'équipe IT."
            ),
            Some(Language::French)
        );
    }
}
