//! `spectro pack push|pull|ls|rm|tag|inspect` and `spectro registry set-default`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use spectro_packs::registry::config::Config;
use spectro_packs::registry::{
    self, PackRef, PullOptions, PushOptions, Registry, RegistryLocation, oci,
};

type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// Flags every registry command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RegistryFlags {
    /// Registry to use: a path or `file://PATH` (embedded registry) or `oci://host[:port]/base`.
    /// Default: `defaultRegistry` from $SPECTRO_HOME/config.json, else $SPECTRO_HOME/registry.
    #[arg(long, short = 'r', global = true, env = "SPECTRO_REGISTRY")]
    registry: Option<String>,
}

/// `$SPECTRO_HOME`, default `~/.spectro`.
pub(crate) fn spectro_home() -> PathBuf {
    if let Some(h) = std::env::var_os("SPECTRO_HOME") {
        return PathBuf::from(h);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".spectro")
}

fn config_path() -> PathBuf {
    spectro_home().join("config.json")
}

fn open(flags: &RegistryFlags) -> Result<Box<dyn Registry>, Box<dyn std::error::Error>> {
    let text = match &flags.registry {
        Some(r) => r.clone(),
        None => match Config::load(&config_path())?.default_registry {
            Some(r) => r,
            None => spectro_home().join("registry").display().to_string(),
        },
    };
    let loc = match RegistryLocation::parse(&text)? {
        RegistryLocation::Local(p) if p.starts_with("~") => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            RegistryLocation::Local(home.join(p.strip_prefix("~").unwrap_or(&p)))
        }
        other => other,
    };
    Ok(registry::open(&loc)?)
}

/// A progress bar on stderr (hidden when stderr is not a terminal) and a Ctrl-C handler
/// that cancels the operation cleanly instead of killing it mid-write.
fn progress_and_cancel(what: &str) -> (registry::ProgressFn, registry::CancelFlag) {
    let bar = indicatif::ProgressBar::new_spinner();
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    let cancel: registry::CancelFlag = Default::default();
    let flag = cancel.clone();
    // Only the first handler registration succeeds; later commands in-process reuse it.
    let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    let progress: registry::ProgressFn = std::sync::Arc::new(move |p| match p {
        registry::Progress::Transfer { done, .. } => bar.set_position(done),
        registry::Progress::Building => bar.set_message("building archive"),
        registry::Progress::Extracting => bar.finish_and_clear(),
        _ => {}
    });
    (progress, cancel)
}

fn created_now() -> Result<String, Box<dyn std::error::Error>> {
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds"))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    Ok(oci::rfc3339(secs))
}

pub(crate) fn push(
    flags: &RegistryFlags,
    path: &Path,
    force: bool,
    no_validate: bool,
    json_out: bool,
) -> CmdResult {
    let reg = open(flags)?;
    let mut opts = PushOptions::default();
    opts.force = force;
    opts.no_validate = no_validate;
    opts.created = Some(created_now()?);
    let (progress, cancel) = progress_and_cancel("pushing");
    opts.progress = Some(progress);
    opts.cancel = Some(cancel);
    let out = reg.push(path, &opts)?;
    let mut stdout = anstream::stdout().lock();
    if json_out {
        writeln!(
            stdout,
            "{}",
            json!({
                "reference": out.reference.to_string(), "registry": reg.location(), "manifest_digest": out.manifest_digest,
                "archive_digest": out.archive_digest, "size": out.size, "changed": out.changed,
            })
        )?;
    } else if out.changed {
        writeln!(
            stdout,
            "Pushed {} to {}\n  digest: {}\n  size:   {} bytes",
            out.reference,
            reg.location(),
            out.manifest_digest,
            out.size
        )?;
    } else {
        writeln!(
            stdout,
            "{} is up to date in {} ({})",
            out.reference,
            reg.location(),
            out.manifest_digest
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn pull(
    flags: &RegistryFlags,
    reference: &str,
    output: Option<PathBuf>,
    archive: bool,
    force: bool,
) -> CmdResult {
    let reg = open(flags)?;
    let r = PackRef::parse(reference)?;
    let mut opts = PullOptions::default();
    opts.archive_only = archive;
    opts.overwrite = force;
    let (progress, cancel) = progress_and_cancel("pulling");
    opts.progress = Some(progress);
    opts.cancel = Some(cancel);
    let out = reg.pull(&r, &output.unwrap_or_else(|| PathBuf::from(".")), &opts)?;
    writeln!(
        anstream::stdout(),
        "Pulled {}:{} to {}\n  digest: {}",
        r.name,
        out.version,
        out.path.display(),
        out.archive_digest
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn ls(flags: &RegistryFlags, name: Option<&str>, json_out: bool) -> CmdResult {
    let reg = open(flags)?;
    let packs = reg.list(name)?;
    let mut stdout = anstream::stdout().lock();
    if json_out {
        writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&json!({"registry": reg.location(), "packs": packs}))?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if packs.is_empty() {
        writeln!(stdout, "No packs in {}", reg.location())?;
    }
    for p in &packs {
        let versions: Vec<&str> = p.versions.iter().map(|v| v.version.as_str()).collect();
        writeln!(stdout, "{:<40} {}", p.name, versions.join(", "))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn rm(flags: &RegistryFlags, reference: &str) -> CmdResult {
    let reg = open(flags)?;
    let r = PackRef::parse(reference)?;
    reg.delete(&r)?;
    writeln!(anstream::stdout(), "Deleted {r} from {}", reg.location())?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn tag(flags: &RegistryFlags, reference: &str, new_tag: &str) -> CmdResult {
    let reg = open(flags)?;
    let r = PackRef::parse(reference)?;
    reg.tag(&r, new_tag)?;
    writeln!(anstream::stdout(), "Tagged {r} as {}:{new_tag}", r.name)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn inspect(flags: &RegistryFlags, reference: &str, json_out: bool) -> CmdResult {
    let reg = open(flags)?;
    let r = PackRef::parse(reference)?;
    let resolved = reg.resolve(&r)?;
    // Pull the archive into a temp dir to summarise pack.json (digest-verified).
    let tmp = tempfile::tempdir()?;
    let pulled = reg.pull(&r, tmp.path(), &PullOptions::default())?;
    let pack = spectro_packs::load_pack(&pulled.path)?;
    let m = pack.manifest();
    let layer = resolved.manifest.pack_layer().ok();
    let summary = json!({
        "reference": format!("{}:{}", r.name, pulled.version), "registry": reg.location(),
        "manifest_digest": resolved.manifest_digest, "manifest": resolved.manifest,
        "archive": {"digest": layer.map(|l| l.digest.clone()), "size": layer.map(|l| l.size), "title": resolved.manifest.title()},
        "pack": {"name": m.name, "version": m.version, "displayName": m.display_name, "layer": m.layer, "addonType": m.addon_type, "cloudTypes": m.cloud_types},
    });
    let mut stdout = anstream::stdout().lock();
    if json_out {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        writeln!(
            stdout,
            "{}:{}  ({})",
            r.name,
            pulled.version,
            reg.location()
        )?;
        writeln!(stdout, "  manifest: {}", resolved.manifest_digest)?;
        if let Some(l) = layer {
            writeln!(
                stdout,
                "  archive:  {} ({} bytes, {})",
                l.digest, l.size, l.media_type
            )?;
        }
        writeln!(
            stdout,
            "  pack:     {} {} layer={} type={}",
            m.display_name.as_deref().unwrap_or("-"),
            m.version.as_deref().unwrap_or("-"),
            m.layer.map_or("-".into(), |l| l.to_string()),
            m.addon_type.as_deref().unwrap_or("-")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn set_default(registry: &str) -> CmdResult {
    RegistryLocation::parse(registry)?;
    let path = config_path();
    let mut cfg = Config::load(&path)?;
    cfg.default_registry = Some(registry.to_owned());
    cfg.save(&path)?;
    writeln!(
        anstream::stdout(),
        "Default registry set to {registry} ({})",
        path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
