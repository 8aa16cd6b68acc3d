//! `spectro-fuzz-seeds TARGET DIR`: write the seed corpus of TARGET into DIR (one file per
//! seed, named by its content's hash, so re-running adds nothing twice).

use std::hash::{DefaultHasher, Hash, Hasher};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: spectro-fuzz-seeds TARGET DIR".into());
    };
    if spectro_fuzz::target(&target).is_none() {
        let names: Vec<&str> = spectro_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown target {target}; targets: {}",
            names.join(" ")
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
    for seed in spectro_fuzz::seeds(&target) {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        let path = std::path::Path::new(&dir).join(format!("seed-{:016x}", h.finish()));
        std::fs::write(&path, &seed).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
