//! Where a juror's annotation points in a text, as the W3C Web Annotation model says it: a
//! `TextQuoteSelector` (the passage, with a little of what comes before and after) and a
//! `TextPositionSelector` (where it started). Positions count Unicode code points, as the
//! W3C model does; the browser's UTF-16 offsets are converted with [`char_index`].
//!
//! The candidate keeps editing after an annotation is made, so an anchor is found again in
//! the current text, in this order:
//! 1. in place: the passage is still at its position;
//! 2. moved: the passage is elsewhere, word for word — among several occurrences, the one
//!    whose surrounding words match the recorded context best, then the nearest;
//! 3. approximately: the passage was edited a little (at most a quarter of its characters),
//!    found by edit distance with a free start and end (Sellers' algorithm);
//! 4. otherwise orphaned: shown as such with its quote, never silently dropped.

use serde::{Deserialize, Serialize};

/// Characters of context kept on each side of the passage.
pub const CONTEXT: usize = 32;
/// Texts longer than this (characters × passage characters) are not searched approximately:
/// a bound on the work one annotation can cost.
const FUZZY_BUDGET: usize = 8_000_000;

/// W3C `TextQuoteSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextQuote {
    pub exact: String,
    pub prefix: String,
    pub suffix: String,
}

/// W3C `TextPositionSelector`: code points, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextPosition {
    pub start: usize,
    pub end: usize,
}

/// Both selectors, as the annotation stores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextAnchor {
    pub quote: TextQuote,
    pub position: TextPosition,
}

/// How an anchor was found in the current text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    InPlace,
    Moved,
    /// The passage now differs by this many edits.
    Approximate {
        edits: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchored {
    At {
        position: TextPosition,
        found: Found,
    },
    /// The passage is gone from the text.
    Orphaned,
}

impl Anchored {
    /// Where the passage is, as a juror reads it: « en place », « déplacée (caractère 12) »…
    pub fn label_fr(&self) -> String {
        match self {
            Anchored::At {
                found: Found::InPlace,
                ..
            } => "en place".into(),
            Anchored::At {
                found: Found::Moved,
                position,
            } => format!("déplacée (caractère {})", position.start),
            Anchored::At {
                found: Found::Approximate { edits },
                ..
            } => format!("approximative ({edits} modification(s))"),
            Anchored::Orphaned => "orpheline".into(),
        }
    }

    pub fn label_en(&self) -> String {
        match self {
            Anchored::At {
                found: Found::InPlace,
                ..
            } => "in place".into(),
            Anchored::At {
                found: Found::Moved,
                position,
            } => format!("moved (character {})", position.start),
            Anchored::At {
                found: Found::Approximate { edits },
                ..
            } => format!("approximate ({edits} edit(s))"),
            Anchored::Orphaned => "orphaned".into(),
        }
    }
}

/// The code point index of UTF-16 offset `utf16` in `text` (what a browser selection gives).
pub fn char_index(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.chars().enumerate() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16();
    }
    text.chars().count()
}

impl TextAnchor {
    /// The anchor of characters `start..end` of `text`; `None` for an empty or out-of-range
    /// passage.
    pub fn new(text: &str, start: usize, end: usize) -> Option<TextAnchor> {
        let chars: Vec<char> = text.chars().collect();
        if start >= end || end > chars.len() {
            return None;
        }
        let collect = |range: std::ops::Range<usize>| chars[range].iter().collect::<String>();
        Some(TextAnchor {
            quote: TextQuote {
                exact: collect(start..end),
                prefix: collect(start.saturating_sub(CONTEXT)..start),
                suffix: collect(end..(end + CONTEXT).min(chars.len())),
            },
            position: TextPosition { start, end },
        })
    }

    /// Where the passage is in `text` now.
    pub fn anchor(&self, text: &str) -> Anchored {
        let chars: Vec<char> = text.chars().collect();
        let exact: Vec<char> = self.quote.exact.chars().collect();
        let n = exact.len();
        if n == 0 || n > chars.len() + n / 4 {
            return Anchored::Orphaned;
        }
        let TextPosition { start, end } = self.position;
        if end <= chars.len() && end - start == n && chars[start..end] == exact[..] {
            return Anchored::At {
                position: self.position,
                found: Found::InPlace,
            };
        }
        let prefix: Vec<char> = self.quote.prefix.chars().collect();
        let suffix: Vec<char> = self.quote.suffix.chars().collect();
        // How well the words around `at..at + len` match the recorded context.
        let context = |at: usize, len: usize| {
            let before = prefix
                .iter()
                .rev()
                .zip(chars[..at].iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            let after = suffix
                .iter()
                .zip(chars[at + len..].iter())
                .take_while(|(a, b)| a == b)
                .count();
            before + after
        };
        let best_exact = (0..=chars.len().saturating_sub(n))
            .filter(|&at| n <= chars.len() && chars[at..at + n] == exact[..])
            .max_by_key(|&at| (context(at, n), std::cmp::Reverse(at.abs_diff(start))));
        if let Some(at) = best_exact {
            return Anchored::At {
                position: TextPosition {
                    start: at,
                    end: at + n,
                },
                found: Found::Moved,
            };
        }
        if chars.len().saturating_mul(n) > FUZZY_BUDGET {
            return Anchored::Orphaned;
        }
        match approximate(&chars, &exact, start) {
            Some((position, edits)) if edits <= n / 4 => Anchored::At {
                position,
                found: Found::Approximate { edits },
            },
            _ => Anchored::Orphaned,
        }
    }
}

/// The substring of `text` closest to `pattern` by edit distance (free start and end), and
/// that distance; among equals, the one starting nearest `near`.
fn approximate(text: &[char], pattern: &[char], near: usize) -> Option<(TextPosition, usize)> {
    let m = pattern.len();
    // Column over the pattern: cost and start in the text of the best alignment ending here.
    let mut cost: Vec<usize> = (0..=m).collect();
    let mut from: Vec<usize> = vec![0; m + 1];
    let mut best: Option<(TextPosition, usize)> = None;
    for (j, &c) in text.iter().enumerate() {
        // Row 0: the empty pattern matches anywhere for free, starting here.
        let (mut diagonal_cost, mut diagonal_from) = (0, j);
        cost[0] = 0;
        from[0] = j + 1;
        for i in 1..=m {
            let substitute = diagonal_cost + usize::from(pattern[i - 1] != c);
            let delete = cost[i] + 1; // text character skipped
            let insert = cost[i - 1] + 1; // pattern character missing
            let (next_cost, next_from) = if substitute <= delete && substitute <= insert {
                (substitute, diagonal_from)
            } else if delete <= insert {
                (delete, from[i])
            } else {
                (insert, from[i - 1])
            };
            diagonal_cost = cost[i];
            diagonal_from = from[i];
            cost[i] = next_cost;
            from[i] = next_from;
        }
        let candidate = (
            TextPosition {
                start: from[m],
                end: j + 1,
            },
            cost[m],
        );
        let better = match &best {
            None => true,
            Some((p, e)) => {
                candidate.1 < *e
                    || (candidate.1 == *e
                        && candidate.0.start.abs_diff(near) < p.start.abs_diff(near))
            }
        };
        if better {
            best = Some(candidate);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Les courriers scannés de trois mutuelles arrivaient sous forme d'images \
        sans structure ; chaque client avait ses propres formats. J'ai écrit les scripts \
        d'extraction (OCR Tesseract) et modélisé l'entrepôt PostgreSQL.";

    fn anchor_of(text: &str, passage: &str) -> TextAnchor {
        let byte = text.find(passage).unwrap();
        let start = text[..byte].chars().count();
        TextAnchor::new(text, start, start + passage.chars().count()).unwrap()
    }

    fn passage(text: &str, a: Anchored) -> Option<(String, Found)> {
        match a {
            Anchored::At { position, found } => Some((
                text.chars()
                    .skip(position.start)
                    .take(position.end - position.start)
                    .collect(),
                found,
            )),
            Anchored::Orphaned => None,
        }
    }

    #[test]
    fn an_untouched_passage_is_found_in_place() {
        let a = anchor_of(TEXT, "scripts d'extraction");
        assert_eq!(a.quote.prefix.chars().count(), CONTEXT);
        assert_eq!(
            passage(TEXT, a.anchor(TEXT)),
            Some(("scripts d'extraction".into(), Found::InPlace))
        );
    }

    #[test]
    fn a_passage_moved_by_an_edit_before_it_is_found_where_it_went() {
        let a = anchor_of(TEXT, "modélisé l'entrepôt PostgreSQL");
        let edited = format!("En 2019, après un audit des flux, {TEXT}");
        assert_eq!(
            passage(&edited, a.anchor(&edited)),
            Some(("modélisé l'entrepôt PostgreSQL".into(), Found::Moved))
        );
    }

    #[test]
    fn among_repeated_words_the_recorded_context_decides() {
        let text = "Le script vérifie les formats. Plus loin, le script vérifie les doublons.";
        let byte = text.rfind("script vérifie").unwrap();
        let start = text[..byte].chars().count();
        let a = TextAnchor::new(text, start, start + "script vérifie".chars().count()).unwrap();
        // The sentences swapped: the nearest occurrence to the old position is now the one
        // about formats; the one about doublons is the one meant.
        let edited = "Plus loin, le script vérifie les doublons. Le script vérifie les formats.";
        let Anchored::At { position, found } = a.anchor(edited) else {
            panic!("lost");
        };
        assert_eq!(found, Found::Moved);
        let meant = edited[..edited.find("script vérifie les doublons").unwrap()]
            .chars()
            .count();
        assert_eq!(position.start, meant);
    }

    #[test]
    fn a_passage_edited_a_little_is_found_approximately() {
        let a = anchor_of(TEXT, "chaque client avait ses propres formats");
        let edited = TEXT.replace(
            "chaque client avait ses propres formats",
            "chaque client avait ses propres formats de fichiers",
        );
        let edited = format!("Contexte : {edited}").replace("chaque client", "chaque clientt");
        let (found, how) = passage(&edited, a.anchor(&edited)).unwrap();
        assert!(
            matches!(how, Found::Approximate { edits } if edits <= 2),
            "{how:?}"
        );
        assert!(found.starts_with("chaque clientt avait"), "{found}");
    }

    #[test]
    fn a_deleted_passage_is_orphaned() {
        let a = anchor_of(TEXT, "d'extraction (OCR Tesseract)");
        let edited = TEXT.replace(
            "J'ai écrit les scripts d'extraction (OCR Tesseract) et ",
            "",
        );
        assert_eq!(a.anchor(&edited), Anchored::Orphaned);
        assert_eq!(a.anchor(""), Anchored::Orphaned);
        // Rewritten beyond a quarter of its characters: orphaned, not matched to something else.
        let rewritten = TEXT.replace("d'extraction (OCR Tesseract)", "de reconnaissance optique");
        assert_eq!(a.anchor(&rewritten), Anchored::Orphaned);
    }

    #[test]
    fn browser_offsets_in_utf16_become_code_points() {
        let text = "Résumé 🙂 écrit";
        // "écrit" starts after "Résumé " (7 units) + the emoji (2 units) + a space.
        assert_eq!(char_index(text, 10), 9);
        assert_eq!(char_index(text, 0), 0);
        assert_eq!(char_index(text, 1000), text.chars().count());
        assert!(TextAnchor::new(text, 3, 3).is_none());
        assert!(TextAnchor::new(text, 3, 100).is_none());
    }
}
