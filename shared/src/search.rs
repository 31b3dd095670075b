//! Finding a statement by what a person types: letters compared without case or accents
//! (a filter on "modele" finds "modèle": people type on keyboards and phones that make
//! accents slow), and every word typed found somewhere in the statement, in any order
//! ("données modèle" finds "Concevoir un modèle de données").

/// `text` in lower case without accents (the Latin letters French and its neighbours
/// write, ligatures spelt out), as a filter compares it.
pub fn folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '’' | 'ʼ' => out.push('\''),
            // An accent typed as its own code point (decomposed text) goes with its letter.
            '\u{300}'..='\u{36f}' => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether every word of `query` is in `haystack`, which the caller folded once
/// ([`folded`]); an empty query matches everything.
pub fn matches(folded_haystack: &str, query: &str) -> bool {
    folded(query)
        .split_whitespace()
        .all(|word| folded_haystack.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_word_order_do_not_matter() {
        let statement = folded("C12 — Concevoir un MODÈLE de données adapté à l’entreprise");
        for query in [
            "modele",
            "MODÈLE",
            "données modèle",
            "c12",
            "l'entreprise",
            "  adapte  ",
            "",
        ] {
            assert!(matches(&statement, query), "{query:?}");
        }
        for query in ["modèles", "donnée x", "C1 modele de donnees z"] {
            assert!(!matches(&statement, query), "{query:?}");
        }
        assert_eq!(folded("Œuvre ÇA Über"), "oeuvre ca uber");
    }
}
