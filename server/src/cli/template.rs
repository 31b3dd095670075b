//! `livret template list|show|check`: the dossier templates (a certifier's model of the
//! *dossier de validation*, as data: `docs/templates.md`).
//!
//! A template that does not read is the user's everyday case (a draft, another program's
//! file): one line naming the file and the fault on stderr, exit code 2.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use livret_shared::template::{self, Template, TemplateFile};

#[derive(Subcommand)]
pub enum TemplateCommand {
    /// The templates shipped with Livret: id, version, for which certifications, title.
    List,
    /// Print a shipped template as a file to start a certifier's own from.
    Show {
        /// The template's id, as `list` prints it.
        id: String,
    },
    /// Check a template file: a summary line, or one line saying what is wrong (exit 2).
    Check {
        /// File to check.
        file: std::path::PathBuf,
    },
}

/// Exit code for a file that is not a template this version reads.
pub const BAD_INPUT: u8 = 2;

/// A template named on the command line could not be read: the caller exits with
/// [`BAD_INPUT`], having made nothing.
#[derive(Debug)]
pub struct BadTemplate(pub String);

impl std::fmt::Display for BadTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadTemplate {}

pub fn run(command: TemplateCommand) -> ExitCode {
    match command {
        TemplateCommand::List => {
            for t in template::builtin() {
                let meant = if t.rncp.is_empty() {
                    "toute certification".to_string()
                } else {
                    t.rncp
                        .iter()
                        .map(|r| format!("RNCP{r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                println!("{}\t{}\t{meant}\t{}", t.id, t.version, t.title_fr);
            }
            ExitCode::SUCCESS
        }
        TemplateCommand::Show { id } => match shipped(&id) {
            Some(t) => {
                let file = TemplateFile::read(t.pinned).expect("a shipped template reads");
                println!(
                    "{}",
                    serde_json::to_string_pretty(&file).expect("a template serialises")
                );
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("livret: {}", unknown(&id));
                ExitCode::from(BAD_INPUT)
            }
        },
        TemplateCommand::Check { file } => match read_file(&file) {
            Ok(t) => {
                let fields: usize = t.sections.iter().map(|s| s.fields.len()).sum();
                println!(
                    "{}: modèle « {} » ({}, version {}) — {} sections, {} champs{}",
                    file.display(),
                    t.title_fr,
                    t.id,
                    t.version,
                    t.sections.len(),
                    fields,
                    if t.fiches_by_bloc {
                        ", fiches bloc par bloc"
                    } else {
                        ""
                    }
                );
                ExitCode::SUCCESS
            }
            Err(BadTemplate(message)) => {
                eprintln!("livret: {message}");
                ExitCode::from(BAD_INPUT)
            }
        },
    }
}

fn shipped(id: &str) -> Option<&'static Template> {
    template::builtin().into_iter().find(|t| t.id == id)
}

fn unknown(id: &str) -> String {
    let ids: Vec<&str> = template::builtin().iter().map(|t| t.id).collect();
    format!(
        "modèle « {id} » inconnu : ni un modèle fourni ({}), ni un fichier",
        ids.join(", ")
    )
}

/// A template file, read and checked.
fn read_file(path: &Path) -> Result<&'static Template, BadTemplate> {
    let unreadable = |e: std::io::Error| {
        BadTemplate(format!(
            "{}: {}",
            path.display(),
            super::referentiel::io_message(&e)
        ))
    };
    // Read no further than the largest template: `/dev/zero` or a video is refused, not
    // loaded.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(unreadable)?,
            template::file::MAX_TEMPLATE_BYTES as u64 + 1,
        ),
        &mut bytes,
    )
    .map_err(unreadable)?;
    if bytes.len() > template::file::MAX_TEMPLATE_BYTES {
        let e = template::TemplateError::TooLarge(bytes.len());
        return Err(BadTemplate(format!("{}: {e}", path.display())));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        BadTemplate(format!(
            "{}: modèle illisible : pas du texte UTF-8",
            path.display()
        ))
    })?;
    Template::import(&text).map_err(|e| BadTemplate(format!("{}: {e}", path.display())))
}

/// What `--template` names: a shipped template's id, else a file.
pub fn read(name: &str) -> Result<&'static Template, BadTemplate> {
    if let Some(t) = shipped(name) {
        return Ok(t);
    }
    let path = Path::new(name);
    if !path.exists() {
        return Err(BadTemplate(unknown(name)));
    }
    read_file(path)
}
