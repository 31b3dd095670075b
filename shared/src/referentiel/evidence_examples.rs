//! « Exemples d'éléments de preuves attendus »: the table some certifiers print (in the
//! dossier template, beside the récapitulatif des compétences) of the evidence they expect,
//! bloc by bloc — « un script de récupération des données », « un dépôt Git en ligne
//! accessible… ». Read from the whole document, as a table of rows `| Bloc de compétences N
//! : title | - item - item |`, whether a row sits on one line (a text export) or wraps over
//! several (a PDF's text). A document without that table gets none, never a guess.

use super::epreuves::without_tags;
use super::model::Referentiel;
use crate::search::folded;

/// Attaches the examples of evidence the document gives to their blocs.
pub(super) fn read(text: &str, referentiel: &mut Referentiel) {
    for (number, items) in rows(text) {
        if let Some(bloc) = referentiel.blocs.iter_mut().find(|b| b.number == number)
            && bloc.evidence_examples.is_empty()
        {
            bloc.evidence_examples = items;
        }
    }
}

/// The table's rows after its heading: (bloc number, examples).
fn rows(text: &str) -> Vec<(u32, Vec<String>)> {
    let mut lines = text.lines();
    if !lines
        .by_ref()
        .any(|l| folded(l).contains("exemples d'elements de preuve"))
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut row = String::new();
    for line in lines {
        let line = line.trim();
        if row.is_empty() {
            if line.is_empty() {
                continue;
            }
            // The table ends at the first line that starts no row.
            if !line.starts_with('|') {
                break;
            }
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(line);
        // A row is whole once it closes its last cell (a PDF wraps it over lines).
        if row.len() > 1 && row.ends_with('|') {
            if let Some(read) = bloc_row(&row) {
                out.push(read);
            }
            row.clear();
        }
    }
    out
}

/// One row: `| Bloc de compétences 2 : … | <ul>- item,- item |`.
fn bloc_row(row: &str) -> Option<(u32, Vec<String>)> {
    let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
    let [head, examples] = cells.as_slice() else {
        return None;
    };
    let head = folded(&without_tags(head));
    let number: u32 = head
        .strip_prefix("bloc de competences")?
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let items = items(&without_tags(examples));
    (!items.is_empty()).then_some((number, items))
}

/// The cell's items: each starts with a dash followed by a space, at the cell's start or
/// right after the previous item's last character (« données,- les… », « d'évaluation- la
/// procédure »); a dash inside a word (« pré-traitement ») or between spaces is the text's.
/// Each without the comma that joined it to the next.
fn items(cell: &str) -> Vec<String> {
    let chars: Vec<char> = cell.chars().collect();
    let mut starts = Vec::new();
    for i in 0..chars.len() {
        let dash = chars[i] == '-' && chars.get(i + 1) == Some(&' ');
        let opens = i == 0 || !chars[i - 1].is_whitespace();
        let first = chars[..i].iter().all(|c| c.is_whitespace());
        if dash && (opens || first) {
            starts.push(i);
        }
    }
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(chars.len());
        let item: String = chars[start + 1..end].iter().collect();
        let item = item.split_whitespace().collect::<Vec<_>>().join(" ");
        let item = item.trim_end_matches([',', ';']).trim().to_string();
        if !item.is_empty() {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_split_where_the_template_joins_them() {
        assert_eq!(
            items(
                "- Un script,- les résultats (nettoyage, etc)- la conception, conformément \
                 aux critères d'évaluation- le pré-traitement - en deux temps,- fin."
            ),
            [
                "Un script",
                "les résultats (nettoyage, etc)",
                "la conception, conformément aux critères d'évaluation",
                "le pré-traitement - en deux temps",
                "fin.",
            ]
        );
    }

    #[test]
    fn a_row_wrapped_over_lines_is_one_row_and_the_table_ends_with_it() {
        let text = "Exemples d'éléments de preuves attendus\n\n\
            | BLOCS | Exemples |\n|---|--|\n\
            | Bloc de compétences 2 : Intégrer des\nmodèles | <ul style=\"x\">- Un état,- un\ndépôt. |\n\
            Fiche descriptive - suite\n| Bloc de compétences 3 : x | - y |\n";
        assert_eq!(
            rows(text),
            [(2, vec!["Un état".to_string(), "un dépôt.".to_string()])]
        );
        assert!(rows("Pas de tableau\n| Bloc de compétences 1 : x | - y |").is_empty());
    }
}
