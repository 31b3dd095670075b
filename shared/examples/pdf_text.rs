//! Prints the text the référentiel reader works on for a PDF: its ruled tables written as
//! markdown tables when it has some, its flowing text otherwise.
//! `cargo run -p livret-shared --features pdf --example pdf_text -- FILE.pdf`

fn main() {
    let path = std::env::args().nth(1).expect("usage: pdf_text FILE.pdf");
    let bytes = std::fs::read(&path).expect("readable file");
    match livret_shared::referentiel::pdf_text(&bytes) {
        Ok(text) => print!("{text}"),
        Err(e) => eprintln!("{path}: {e}"),
    }
}
