//! Prints the text pdf-extract gives for a PDF: what the référentiel reader works on.
//! `cargo run -p livret-shared --features pdf --example pdf_text -- FILE.pdf`

fn main() {
    let path = std::env::args().nth(1).expect("usage: pdf_text FILE.pdf");
    let bytes = std::fs::read(&path).expect("readable file");
    match pdf_extract::extract_text_from_mem(&bytes) {
        Ok(text) => print!("{text}"),
        Err(e) => eprintln!("{path}: {e}"),
    }
}
