//! `livret referentiel …` driven as a user would: the real binary, real files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn livret(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_livret"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("livret runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn shape(json: &serde_json::Value) -> Vec<usize> {
    json["blocs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["competences"].as_array().unwrap().len())
        .collect()
}

const SEEDS: [(&str, &[usize]); 5] = [
    ("000-expert-ingenierie-logiciel", &[5, 4, 4, 5]),
    ("001-expert-ingenierie-systemes-information", &[5, 4, 4, 3]),
    (
        "002-developpeur-intelligence-artificielle-rncp37827",
        &[5, 8, 8],
    ),
    (
        "003-expert-architecture-developpement-logiciel-rncp38822",
        &[7, 5, 6, 6],
    ),
    ("004-expert-developpement-logiciel", &[8, 7, 6, 10]),
];

#[test]
fn import_prints_json_for_texts_and_pdfs() {
    for (name, expected) in SEEDS {
        for file in [
            format!("fixtures/referentiels/{name}.txt"),
            format!("fixtures/referentiels/pdf/{name}.pdf"),
        ] {
            let out = livret(&["referentiel", "import", &file, "--json"]);
            assert!(out.status.success(), "{file}: {}", stderr(&out));
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(json["schema_version"], 1);
            assert_eq!(shape(&json), expected, "{file}");
        }
    }
}

#[test]
fn import_of_several_files_prints_one_json_array() {
    let mut files: Vec<String> = Vec::new();
    for dir in [
        "fixtures/referentiels",
        "fixtures/referentiels/pdf",
        "fixtures/referentiels/rncp",
    ] {
        let mut entries: Vec<String> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .collect();
        entries.sort();
        files.extend(entries);
    }
    let mut args = vec!["referentiel", "import", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = livret(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = json.as_array().unwrap();
    // 5 texts, 5 PDFs, and an XML export holding 2 fiches.
    assert_eq!(all.len(), 12);
    let sources: Vec<&str> = all.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(sources.iter().filter(|s| **s == "rncp-xml").count(), 2);
    assert_eq!(sources.iter().filter(|s| **s == "pdf").count(), 5);
}

#[test]
fn import_prints_a_readable_tree() {
    let out = livret(&[
        "referentiel",
        "import",
        "fixtures/referentiels/000-expert-ingenierie-logiciel.txt",
    ]);
    assert!(out.status.success());
    let tree = stdout(&out);
    assert!(
        tree.starts_with("Expert en ingénierie du logiciel\n"),
        "{tree}"
    );
    assert!(tree.contains("├─ Bloc 1 [BC01] Gestion de la relation client (5 compétences)"));
    assert!(tree.contains("├─ Bloc 2 [BC02] (intitulé illisible) (4 compétences)"));
    assert!(tree.contains("│  ├─ C18 Concevoir une application d'analyse de données massives"));
}

#[test]
fn check_reports_what_looks_wrong() {
    let dir = tempdir();
    let file = dir.join("suspect.txt");
    std::fs::write(
        &file,
        "Bloc de compétences 1 : Concevoir\n\nC1. Analyser le besoin du client.\n\nC3. Rédiger le cahier des charges.\n\n\
         Bloc de compétences 2 : Réaliser\n\nC3. Développer les composants logiciels de l'application.\n\n\
         Bloc de compétences 3 : Déployer\n\nRien ici.\n",
    )
    .unwrap();
    let out = livret(&["referentiel", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = stdout(&out);
    assert!(
        report.contains("le bloc 3 (BC03) ne contient aucune compétence"),
        "{report}"
    );
    assert!(
        report.contains("numérotation sautée : C2 manque entre C1 et C3"),
        "{report}"
    );
    assert!(report.contains("C3 est énoncé différemment"), "{report}");

    // A statement whose end was printed elsewhere (PDF columns) is pointed out, not kept quiet.
    let cut = dir.join("coupe.txt");
    std::fs::write(
        &cut,
        "Bloc de compétences 1 : Concevoir\n\nC1. Analyser les besoins afin de garantir l'inclusion des\n\n\
         C2. Rédiger le cahier des charges du projet client.\n",
    )
    .unwrap();
    let out = livret(&["referentiel", "check", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "l'énoncé de C1 semble coupé : « …besoins afin de garantir l'inclusion des »"
        ),
        "{}",
        stdout(&out)
    );

    let out = livret(&[
        "referentiel",
        "check",
        "fixtures/referentiels/000-expert-ingenierie-logiciel.txt",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("le bloc 2 n'a pas d'intitulé lisible"));

    let out = livret(&[
        "referentiel",
        "check",
        "fixtures/referentiels/001-expert-ingenierie-systemes-information.txt",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("aucun problème détecté (4 blocs, 16 compétences)"));
}

#[test]
fn bad_input_gives_one_line_naming_the_file_and_exit_2() {
    let dir = tempdir();
    let directory = dir.join("un-dossier");
    std::fs::create_dir(&directory).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            "fixtures/referentiels/bad/empty.txt".into(),
            "le fichier est vide",
        ),
        (
            "fixtures/referentiels/bad/lettre.txt".into(),
            "ne semble pas être un référentiel",
        ),
        (
            "fixtures/referentiels/bad/encrypted.pdf".into(),
            "PDF chiffré",
        ),
        (
            "fixtures/referentiels/bad/truncated.pdf".into(),
            "PDF illisible",
        ),
        (
            "fixtures/referentiels/bad/scanned-blank.pdf".into(),
            "PDF sans texte",
        ),
        (
            "fixtures/referentiels/bad/invalid.xml".into(),
            "XML invalide",
        ),
        (
            "fixtures/referentiels/absent.pdf".into(),
            "fichier introuvable",
        ),
        (directory.to_string_lossy().into_owned(), "c'est un dossier"),
    ];
    for (file, reason) in cases {
        for command in ["import", "check"] {
            let out = livret(&["referentiel", command, &file]);
            assert_eq!(out.status.code(), Some(2), "{command} {file}");
            let err = stderr(&out);
            assert_eq!(
                err.lines().count(),
                1,
                "{command} {file}: one line, got {err:?}"
            );
            assert!(err.starts_with(&format!("livret: {file}: ")), "{err}");
            assert!(err.contains(reason), "{file}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(out.stdout.is_empty(), "{command} {file}");
        }
    }
}

#[test]
fn good_files_still_print_when_one_is_bad() {
    let out = livret(&[
        "referentiel",
        "import",
        "--json",
        "fixtures/referentiels/bad/lettre.txt",
        "fixtures/referentiels/001-expert-ingenierie-systemes-information.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
}

#[test]
fn schema_command_prints_the_documented_schema() {
    let out = livret(&["referentiel", "schema"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root().join("docs/referentiel.schema.json")).unwrap();
    assert_eq!(stdout(&out), committed);
}

fn tempdir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("livret-cli-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
