//! The `ksim` binary: the command line natively, the web app on wasm32 (built by Trunk).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = ksim::cli::run(&args, &mut std::io::stdin().lock(), &mut out);
    let flushed = std::io::Write::flush(&mut out);
    match (result, flushed) {
        (Ok(()), Ok(())) => {}
        (Err(e), _) => {
            eprintln!("ksim: {e}");
            std::process::exit(2);
        }
        (Ok(()), Err(e)) => {
            eprintln!("ksim: write failed: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    ksim::ui::mount();
}
