//! Hostile PDFs posted to the relay's référentiel route: each is refused with one French
//! line, the relay keeps answering (health, and a real référentiel PDF read afterwards), and
//! its own memory never holds what a compression bomb inflates to.

use std::io::Write;

use crate::support::{Relay, get, request};

/// A PDF around `objects` (object `n` is the n-th, from 1; object 1 is the catalogue), with
/// a correct cross-reference table.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).unwrap();
    for o in offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    )
    .unwrap();
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// Catalogue, page tree, and one page showing `content` with form XObjects `/X1`… bound to
/// objects 5 onwards (`forms` of them).
fn page_with(content: Vec<u8>, forms: usize) -> Vec<Vec<u8>> {
    let xobjects: String = (0..forms.min(1))
        .map(|i| format!("/X{} {} 0 R ", i + 1, i + 5))
        .collect();
    vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << {xobjects}>> >> /Contents 4 0 R >>"
        )
        .into_bytes(),
        content,
    ]
}

/// A form XObject that draws itself: pdf-extract recurses until the stack overflows.
fn self_drawing_form() -> Vec<u8> {
    let mut objects = page_with(stream("", b"/X1 Do"), 1);
    objects.push(stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /XObject << /X1 5 0 R >> >>",
        b"/X1 Do",
    ));
    pdf(&objects)
}

/// Forms nested 40,000 deep, each drawing the next (no cycle a reader could notice).
fn deeply_nested_forms() -> Vec<u8> {
    const DEPTH: usize = 40_000;
    let mut objects = page_with(stream("", b"/X1 Do"), 1);
    for i in 0..DEPTH {
        let next = if i + 1 < DEPTH {
            format!("/Resources << /XObject << /X1 {} 0 R >> >>", i + 6)
        } else {
            String::new()
        };
        objects.push(stream(
            &format!("/Type /XObject /Subtype /Form /BBox [0 0 1 1] {next}"),
            if i + 1 < DEPTH { b"/X1 Do" } else { b"" },
        ));
    }
    pdf(&objects)
}

/// A page whose FlateDecode content inflates to `gib` GiB of zeros, from a few megabytes:
/// one sync-flushed DEFLATE segment of a mebibyte of zeros, repeated (each segment only
/// refers back to zeros, so the repetition is valid DEFLATE).
fn compression_bomb(gib: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
    encoder.flush().unwrap();
    let segment = encoder.get_ref().clone();
    let mut zlib = vec![0x78, 0x9c];
    for _ in 0..gib * 1024 {
        zlib.extend_from_slice(&segment);
    }
    // A last, empty, fixed-Huffman block; the Adler-32 is not worth computing.
    zlib.extend_from_slice(&[0x03, 0x00, 0, 0, 0, 0]);
    pdf(&page_with(stream("/Filter /FlateDecode", &zlib), 0))
}

/// Peak resident memory of a process, in bytes (VmHWM).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

fn post_pdf(relay: &Relay, bytes: &[u8]) -> crate::support::Response {
    request(relay.addr, "POST", "/api/v1/referentiels/pdf", Some(bytes))
}

fn still_serves(relay: &Relay) {
    let health = get(relay.addr, "/api/v1/health");
    assert_eq!(health.status, 200, "the relay stopped answering");
    let real = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/referentiels/pdf/004-expert-developpement-logiciel.pdf"),
    )
    .unwrap();
    let read = post_pdf(relay, &real);
    assert_eq!(read.status, 200, "{}", read.text());
    let json: serde_json::Value = serde_json::from_slice(&read.body).unwrap();
    assert!(
        !json[0]["blocs"].as_array().unwrap().is_empty(),
        "{}",
        read.text()
    );
}

#[test]
fn hostile_pdfs_are_refused_and_the_relay_keeps_serving() {
    let relay = Relay::start();
    still_serves(&relay);
    let bomb = compression_bomb(4);
    assert!(bomb.len() < 12 * 1024 * 1024, "{} bytes", bomb.len());
    for (what, bytes) in [
        ("a form drawing itself", self_drawing_form()),
        ("forms nested 40,000 deep", deeply_nested_forms()),
        ("a FlateDecode bomb of 4 GiB", bomb),
    ] {
        let answer = post_pdf(&relay, &bytes);
        assert_eq!(answer.status, 422, "{what}: {}", answer.text());
        let reason = answer.text();
        assert!(
            reason.starts_with("PDF "),
            "{what}: one clear French line, got {reason:?}"
        );
        assert!(!reason.contains('\n'), "{what}: {reason:?}");
        still_serves(&relay);
    }
    // What the bomb inflates to never lived in the relay itself.
    let peak = peak_rss(relay.pid());
    assert!(
        peak < 300 * 1024 * 1024,
        "relay peaked at {} MiB",
        peak >> 20
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&get(relay.addr, "/api/v1/metrics").body).unwrap();
    assert!(metrics["limited"]["pdf_refused"].as_u64().unwrap() >= 3);
}

/// A page ruled with ~64,000 short strokes under a référentiel's text: finding each glyph's
/// table cell would look at every rule for every glyph. The reader sees a page ruled past any
/// table and reads its flowing text instead, under the child's CPU limit.
fn ruled_past_any_table() -> Vec<u8> {
    let mut content = String::new();
    let mut y = 2.0;
    while y < 790.0 {
        let mut x = 1.0;
        while x < 605.0 {
            content.push_str(&format!("{x} {y} m {} {y} l S\n", x + 4.5));
            x += 7.5;
        }
        y += 2.0;
    }
    let mut x = 2.0;
    while x < 610.0 {
        let mut y = 1.0;
        while y < 785.0 {
            content.push_str(&format!("{x} {y} m {x} {} l S\n", y + 4.5));
            y += 7.5;
        }
        x += 2.0;
    }
    content.push_str(
        "BT /F1 9 Tf 40 760 Td 11 TL (BLOC 1 - Concevoir des solutions logicielles) Tj\n",
    );
    content.push_str(
        "T* (C1. Analyser les besoins du client afin de formaliser les exigences du projet.) Tj\n",
    );
    for i in 0..100 {
        content.push_str(&format!(
            "T* (- Les besoins numero {i} du client sont identifies et formalises.) Tj\n"
        ));
    }
    content.push_str("ET\n");
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        stream("", content.as_bytes()),
    ];
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    pdf(&objects)
}

#[test]
fn a_page_ruled_past_any_table_is_read_as_flowing_text() {
    let relay = Relay::start();
    let answer = post_pdf(&relay, &ruled_past_any_table());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let competence = &json[0]["blocs"][0]["competences"][0];
    assert_eq!(competence["code"], "C1", "{}", answer.text());
    assert!(
        competence["title"]
            .as_str()
            .unwrap()
            .starts_with("Analyser les besoins du client"),
        "{}",
        answer.text()
    );
    still_serves(&relay);
}

/// The relay reads text and RNCP XML for the app too (it carries no reader): what anyone
/// may post there is refused in one line, or read, and the relay keeps serving.
#[test]
fn hostile_texts_and_xml_are_refused_and_the_relay_keeps_serving() {
    let relay = Relay::start();
    // Entities that expand to a billion « lol »s, and a deep nesting.
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    laughs.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let prev = format!("&lol{};", i - 1).repeat(10);
        laughs.push_str(&format!("<!ENTITY lol{i} \"{prev}\">\n"));
    }
    laughs.push_str("]>\n<Fiches><Fiche>&lol9;</Fiche></Fiches>\n");
    let nested = format!(
        "<?xml version=\"1.0\"?>{}{}",
        "<Fiche>".repeat(200_000),
        "</Fiche>".repeat(200_000)
    );
    // Lines that look like a référentiel's, by the hundred thousand.
    let text = "| Bloc de compétences 1 : C1. Concevoir | C1.1 critère (\n".repeat(200_000);
    for (what, bytes) in [
        ("a billion laughs", laughs.into_bytes()),
        ("elements nested 200,000 deep", nested.into_bytes()),
        ("11 MB of table rows", text.into_bytes()),
    ] {
        let answer = request(
            relay.addr,
            "POST",
            "/api/v1/referentiels/read",
            Some(&bytes),
        );
        assert!(
            answer.status == 422 || answer.status == 200,
            "{what}: {} {}",
            answer.status,
            answer.text()
        );
        if answer.status == 422 {
            assert!(!answer.text().contains('\n'), "{what}: {:?}", answer.text());
        }
        still_serves(&relay);
    }
    // The built-in référentiels, as the app takes them.
    let built_in = get(
        relay.addr,
        "/referentiels/002-developpeur-intelligence-artificielle-rncp37827.json",
    );
    assert_eq!(built_in.status, 200, "{}", built_in.text());
    let json: serde_json::Value = serde_json::from_slice(&built_in.body).unwrap();
    assert_eq!(json["rncp"], "RNCP37827");
    assert_eq!(json["blocs"].as_array().unwrap().len(), 3);
}

/// The relay says why it did not read a référentiel in the language its client asks for
/// (the app sends its own): French unless English comes first, for the importer's reasons
/// and the reader's limits alike.
#[test]
fn a_refusal_is_worded_in_the_language_asked() {
    let relay = Relay::start();
    let post = |bytes: &[u8], language: Option<&str>| {
        let headers: Vec<(&str, &str)> = language
            .map(|l| vec![("Accept-Language", l)])
            .unwrap_or_default();
        let answer = crate::support::request_with(
            relay.addr,
            "POST",
            "/api/v1/referentiels/read",
            Some(bytes),
            &headers,
        );
        assert_eq!(answer.status, 422, "{}", answer.text());
        answer.text()
    };
    let not_one = b"Bonjour,\nceci est une lettre, pas un referentiel.\n";
    for (language, expected) in [
        (None, "aucune compétence reconnue"),
        (
            Some("fr-FR,fr;q=0.9,en;q=0.8"),
            "aucune compétence reconnue",
        ),
        (Some("en"), "no compétence found"),
        (Some("en-GB,en;q=0.9"), "no compétence found"),
    ] {
        let said = post(not_one, language);
        assert!(said.starts_with(expected), "{language:?}: {said:?}");
        assert!(!said.contains('\n'), "{said:?}");
    }
    // A limit reached in the child (a form that draws itself), in English.
    let said = post(&self_drawing_form(), Some("en"));
    assert!(said.starts_with("unreadable PDF"), "{said:?}");
}
