//! The France Compétences RNCP XML export (flux v4.1).

use std::path::PathBuf;

use livret_shared::referentiel::{self, ImportError, SourceFormat};

fn sample() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/referentiels/rncp/fiches-rncp37827-rncp38822.xml");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn every_fiche_of_the_export_is_imported() {
    let imports = referentiel::import_rncp_xml(&sample()).unwrap();
    assert_eq!(imports.len(), 2);

    let ia = &imports[0].referentiel;
    assert_eq!(ia.source, SourceFormat::RncpXml);
    assert_eq!(ia.rncp.as_deref(), Some("RNCP37827"));
    assert_eq!(
        ia.title.as_deref(),
        Some("Développeur en intelligence artificielle")
    );
    assert_eq!(ia.shape(), [5, 8, 8]);
    assert_eq!(ia.blocs[2].code, "RNCP37827BC03");
    // HTML list escaped inside the XML: items are competencies, the introduction is not.
    let codes: Vec<&str> = ia.competences().map(|(_, c)| c.code.as_str()).collect();
    assert_eq!(codes.first(), Some(&"C1"));
    assert_eq!(codes.last(), Some(&"C21"));
    assert!(
        ia.competence("C9")
            .unwrap()
            .title
            .starts_with("Développer une API exposant un modèle")
    );
    assert!(ia.blocs[0].assessment[0].starts_with("Mise en situation professionnelle"));

    // Plain-text list in CDATA, unnumbered: generated codes.
    let archi = &imports[1].referentiel;
    assert_eq!(archi.rncp.as_deref(), Some("RNCP38822"));
    assert_eq!(archi.shape(), [7, 5, 6, 6]);
    let c = archi.competence("C4.6").unwrap();
    assert!(c.title.starts_with("Évaluer la performance de l'équipe"));
    assert_eq!(c.printed_code, None);
}

#[test]
fn the_same_fiche_reads_the_same_from_xml_and_from_text() {
    let from_xml = &referentiel::import_rncp_xml(&sample()).unwrap()[1].referentiel;
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../fixtures/referentiels/003-expert-architecture-developpement-logiciel-rncp38822.txt",
    ))
    .unwrap();
    let from_text = referentiel::import_text(&text).unwrap().referentiel;
    // The sample XML was typed with straight apostrophes; the certifier's text prints ’.
    let statements = |r: &referentiel::Referentiel| -> Vec<(String, String)> {
        r.competences()
            .map(|(_, c)| (c.code.clone(), c.title.replace('’', "'")))
            .collect()
    };
    assert_eq!(statements(from_xml), statements(&from_text));
}

#[test]
fn list_variants_split_into_competencies() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<FICHE>
  <NUMERO_FICHE>35226</NUMERO_FICHE>
  <INTITULE>TECHNICIEN D'ASSISTANCE INFORMATIQUE</INTITULE>
  <BLOCS_COMPETENCES>
    <BLOC_COMPETENCES>
      <CODE>RNCP35226BC01</CODE>
      <LIBELLE>Intervenir sur les équipements</LIBELLE>
      <LISTE_COMPETENCES>&amp;lt;p&amp;gt;Mettre en service des équipements numériques&amp;lt;/p&amp;gt;&amp;lt;p&amp;gt;Assister les utilisateurs en centre de services, en prenant en compte&amp;lt;br&amp;gt;leur niveau de maîtrise&amp;lt;/p&amp;gt;</LISTE_COMPETENCES>
    </BLOC_COMPETENCES>
    <BLOC_COMPETENCES>
      <CODE>RNCP35226BC02</CODE>
      <LIBELLE>Maintenir les infrastructures</LIBELLE>
      <LISTE_COMPETENCES>Compétences :
• C3 - Intervenir sur les éléments de l'infrastructure
• C4 - Contribuer à la sécurisation des réseaux
• C5 - Superviser les postes de travail</LISTE_COMPETENCES>
    </BLOC_COMPETENCES>
  </BLOCS_COMPETENCES>
</FICHE>"#;
    let r = &referentiel::import_rncp_xml(xml).unwrap()[0].referentiel;
    assert_eq!(r.rncp.as_deref(), Some("RNCP35226"));
    assert_eq!(
        r.title.as_deref(),
        Some("Technicien d'assistance informatique")
    );
    assert_eq!(r.shape(), [2, 3]);
    // Escaped twice, and a statement continued after a line break.
    assert_eq!(
        r.blocs[0].competences[1].title,
        "Assister les utilisateurs en centre de services, en prenant en compte leur niveau de maîtrise"
    );
    let codes: Vec<&str> = r.blocs[1]
        .competences
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes, ["C3", "C4", "C5"]);
}

#[test]
fn bad_xml_is_refused_with_a_reason() {
    assert!(matches!(
        referentiel::import_rncp_xml("<FICHES><FICHE>"),
        Err(ImportError::Xml(_))
    ));
    assert_eq!(
        referentiel::import_rncp_xml("<?xml version=\"1.0\"?><AUTRE/>").unwrap_err(),
        ImportError::NoFiche
    );
    assert_eq!(
        referentiel::import_rncp_xml("<FICHES><FICHE><INTITULE>X</INTITULE></FICHE></FICHES>")
            .unwrap_err(),
        ImportError::NotAReferentiel
    );
    // Detected by content, whatever the file is called.
    assert!(matches!(
        referentiel::import_bytes(b"<?xml version=\"1.0\"?><FICHES>"),
        Err(ImportError::Xml(_))
    ));
}
