//! Build a reproducible pack archive, print its name and digest, and prove it extracts to
//! the same pack.
//!
//! ```sh
//! cargo run -p spectro-packs --example build_archive -- fixtures/packs/valid/nginx-chart dist/
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line example prints

use std::process::ExitCode;

use spectro_packs::archive::{BuildOptions, ExtractOptions, build_archive, extract_archive};

fn run(pack: &str, out: &str) -> Result<(), spectro_packs::Error> {
    // Validation runs first and refuses a pack with error findings.
    let built = build_archive(pack, out, &BuildOptions::default())?;
    println!(
        "{} ({} bytes, {} entries) {}",
        built.path.display(),
        built.size,
        built.entries,
        built.digest
    );
    // Extract into a scratch folder to show the round trip.
    let scratch = std::env::temp_dir().join(format!("spectro-example-{}", std::process::id()));
    let opts = ExtractOptions::for_pack(built.name.clone());
    let extracted = extract_archive(&built.path, &scratch, &opts);
    let _ = std::fs::remove_dir_all(&scratch);
    let extracted = extracted?;
    println!(
        "extracts to {}/ ({} files, {} bytes)",
        extracted.top_dir, extracted.files, extracted.bytes
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pack, out] = args.as_slice() else {
        eprintln!("usage: build_archive PACK_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    match run(pack, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
