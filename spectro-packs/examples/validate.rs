//! Validate packs and print each finding as `file:line:column: CODE severity message`.
//!
//! ```sh
//! cargo run -p spectro-packs --example validate -- fixtures/packs/valid/hello-universe
//! ```
//!
//! Exits 1 when any pack has an error finding, 2 when a path cannot be read.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line example prints

use std::process::ExitCode;

use spectro_packs::{Severity, ValidateOptions, validate_paths};

fn main() -> ExitCode {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if paths.is_empty() {
        eprintln!("usage: validate PACK_OR_FOLDER...");
        return ExitCode::from(2);
    }
    let reports = match validate_paths(&paths, &ValidateOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut errors = 0;
    for report in &reports {
        for d in &report.diagnostics {
            let line = d.line.map_or(0, |l| l.get());
            let column = d.column.map_or(0, |c| c.get());
            println!(
                "{}/{}:{line}:{column}: {} {} {}",
                report.path.display(),
                d.file,
                d.code,
                d.severity,
                d.message
            );
        }
        errors += report.count(Severity::Error);
    }
    println!("checked {} pack(s): {errors} error(s)", reports.len());
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
