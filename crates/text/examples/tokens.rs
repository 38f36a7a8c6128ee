//! Prints the tokens and signal of each line of stdin: `cargo run --example tokens`.
use std::io::BufRead;

fn main() {
    let ex = benglema_text::Extractor::embedded();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        println!("{}\n  => {:?}", ex.tokens(&line), ex.extract(&line));
    }
}
