//! `livret referentiel import|check`.
//!
//! Bad input is the user's everyday case (a scanned PDF, the wrong file): one line naming the
//! file and the problem on stderr, exit code 2, never a panic.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use livret_shared::referentiel::{self, Import, Referentiel};

#[derive(Subcommand)]
pub enum ReferentielCommand {
    /// Read référentiels (text, PDF or RNCP XML) and print their structure.
    Import {
        /// Files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON (the documented schema) instead of a tree.
        #[arg(long)]
        json: bool,
    },
    /// Report what looks wrong in a référentiel.
    Check {
        /// File to check.
        file: PathBuf,
    },
    /// Print the JSON Schema of the référentiel JSON.
    Schema,
}

pub fn run(command: ReferentielCommand) -> ExitCode {
    match command {
        ReferentielCommand::Import { files, json } => import(&files, json),
        ReferentielCommand::Check { file } => check(&file),
        ReferentielCommand::Schema => {
            print!("{}", referentiel::json_schema());
            ExitCode::SUCCESS
        }
    }
}

/// Exit code for input that could not be read as a référentiel.
const BAD_INPUT: u8 = 2;
/// Exit code of `check` when it found problems.
const FINDINGS: u8 = 1;

fn read(path: &Path) -> Result<Vec<Import>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("{}: {}", path.display(), io_message(&e)))?;
    // A PDF is read in a child process under limits: a hostile file cannot hang or
    // exhaust the CLI either.
    super::pdf_reader()?
        .import_bytes(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The référentiel a file holds (the first, for an XML export of several): what a dossier
/// or a jury session pins.
pub fn read_one(path: &Path) -> anyhow::Result<Referentiel> {
    let mut imports = read(path).map_err(anyhow::Error::msg)?;
    Ok(imports.remove(0).referentiel)
}

pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "fichier introuvable".into(),
        std::io::ErrorKind::PermissionDenied => "lecture refusée (permissions)".into(),
        std::io::ErrorKind::IsADirectory => "c'est un dossier, pas un fichier".into(),
        _ => e.to_string(),
    }
}

pub fn import(files: &[std::path::PathBuf], json: bool) -> ExitCode {
    let mut imported: Vec<Referentiel> = Vec::new();
    let mut failed = false;
    for path in files {
        match read(path) {
            Ok(imports) => imported.extend(imports.into_iter().map(|i| i.referentiel)),
            Err(message) => {
                eprintln!("livret: {message}");
                failed = true;
            }
        }
    }
    let mut out = String::new();
    if json {
        let value = if files.len() == 1 && imported.len() == 1 {
            serde_json::to_string_pretty(&imported[0])
        } else {
            serde_json::to_string_pretty(&imported)
        };
        out = value.expect("référentiels always serialise");
        out.push('\n');
    } else {
        for r in &imported {
            out.push_str(&tree(r));
        }
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.as_bytes());
    if failed {
        ExitCode::from(BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn check(path: &Path) -> ExitCode {
    let imports = match read(path) {
        Ok(i) => i,
        Err(message) => {
            eprintln!("livret: {message}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let mut found = false;
    for import in &imports {
        let r = &import.referentiel;
        let findings = referentiel::check(import);
        let name = r.title.as_deref().unwrap_or("référentiel sans titre");
        if findings.is_empty() {
            println!(
                "{}: {name} — aucun problème détecté ({} blocs, {} compétences)",
                path.display(),
                r.blocs.len(),
                r.competences().count()
            );
        } else {
            found = true;
            println!(
                "{}: {name} — {} problème(s)",
                path.display(),
                findings.len()
            );
            for f in findings {
                println!("  - {}", f.message);
            }
        }
    }
    if found {
        ExitCode::from(FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

/// The readable tree printed by `import`.
pub fn tree(r: &Referentiel) -> String {
    let mut s = String::new();
    let title = r.title.as_deref().unwrap_or("(titre non trouvé)");
    match &r.rncp {
        Some(n) => writeln!(s, "{title} — {n}"),
        None => writeln!(s, "{title}"),
    }
    .ok();
    for b in &r.blocs {
        let kind = match b.kind {
            referentiel::BlocKind::Bloc => "Bloc",
            referentiel::BlocKind::Activite => "Activité",
        };
        writeln!(
            s,
            "├─ {kind} {} [{}] {} ({} compétences)",
            b.number,
            b.code,
            b.title.as_deref().unwrap_or("(intitulé illisible)"),
            b.competences.len()
        )
        .ok();
        for c in &b.competences {
            writeln!(s, "│  ├─ {} {}", c.code, shorten(&c.title, 100)).ok();
            for cr in &c.criteria {
                let code = cr
                    .code
                    .as_deref()
                    .map(|c| format!("{c} "))
                    .unwrap_or_default();
                writeln!(s, "│  │  · {code}{}", shorten(&cr.title, 90)).ok();
            }
        }
    }
    s
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}
