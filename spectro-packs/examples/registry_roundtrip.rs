//! Push packs to a registry, list it, and pull the latest version of the first one back.
//!
//! A folder is the embedded registry (no server). With the `remote` feature an
//! `oci://host[:port]/base` location works the same way against any OCI registry.
//!
//! ```sh
//! cargo run -p spectro-packs --example registry_roundtrip -- /tmp/registry /tmp/pulled \
//!     fixtures/packs/valid/nginx-chart fixtures/packs/valid/hello-universe
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line example prints

use std::path::Path;
use std::process::ExitCode;

use spectro_packs::registry::{self, PackRef, PullOptions, PushOptions, RegistryLocation};

fn run(location: &str, dest: &Path, packs: &[String]) -> Result<(), spectro_packs::Error> {
    let location = RegistryLocation::parse(location)?;
    let reg = registry::open(&location)?;
    let mut first = None;
    for pack in packs {
        let pushed = reg.push(Path::new(pack), &PushOptions::default())?;
        let what = if pushed.changed {
            "pushed"
        } else {
            "up to date"
        };
        println!("{what}: {} {}", pushed.reference, pushed.manifest_digest);
        first.get_or_insert(pushed.reference);
    }
    for listing in reg.list(None)? {
        let versions: Vec<&str> = listing
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .collect();
        println!("{}: {}", listing.name, versions.join(", "));
    }
    if let Some(r) = first {
        // A bare name selects the highest version.
        let latest = PackRef::parse(&r.name)?;
        let opts = PullOptions::default().with_overwrite(true);
        let pulled = reg.pull(&latest, dest, &opts)?;
        println!(
            "pulled {} {} into {}",
            r.name,
            pulled.version,
            pulled.path.display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [location, dest, packs @ ..] = args.as_slice() else {
        eprintln!("usage: registry_roundtrip REGISTRY DEST PACK...");
        return ExitCode::from(2);
    };
    match run(location, Path::new(dest), packs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
