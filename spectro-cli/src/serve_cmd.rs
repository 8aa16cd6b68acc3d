//! `spectro registry serve`: flags in, [`spectro_packs::server::run`] out.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use spectro_packs::registry::config::spectro_home_from_env;
use spectro_packs::server::{self, ServeOptions};

/// Flags of `spectro registry serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Registry folder to serve (default: $SPECTRO_HOME/registry, the embedded
    /// registry that `spectro pack push` writes by default).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Address to listen on, exactly as given (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:5000")]
    addr: SocketAddr,
    /// htpasswd file with bcrypt hashes (`htpasswd -B`); a third field `:pull` marks a
    /// read-only user (`ci:$2y$...:pull`). Without it, anyone who can connect may push.
    #[arg(long, value_name = "FILE")]
    htpasswd: Option<PathBuf>,
    /// With --htpasswd: let clients without credentials pull.
    #[arg(long, requires = "htpasswd")]
    anonymous_read: bool,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Refuse every push and delete.
    #[arg(long)]
    read_only: bool,
    /// Serve plain HTTP on an address other than loopback (credentials and packs cross
    /// the network unencrypted).
    #[arg(long)]
    insecure_listen: bool,
    /// Largest blob one upload may store (e.g. `2GiB`); same as
    /// `--limit serve-upload-size=...`.
    #[arg(long, value_name = "SIZE")]
    max_upload: Option<String>,
    /// No request log on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let root = args
        .root
        .unwrap_or_else(|| spectro_home_from_env().join("registry"));
    let mut opts = ServeOptions::new(&root, args.addr);
    let mut limits = crate::limits().clone();
    if let Some(size) = &args.max_upload {
        limits.set("serve-upload-size", size)?;
    }
    limits.apply_serve(&mut opts);
    opts.htpasswd = args.htpasswd;
    opts.anonymous_read = args.anonymous_read;
    opts.tls = args.tls_cert.zip(args.tls_key);
    opts.read_only = args.read_only;
    opts.insecure_listen = args.insecure_listen;
    if !args.quiet {
        opts.log = Some(Arc::new(|line: &str| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let _ = writeln!(
                std::io::stderr().lock(),
                "{} {line}",
                spectro_packs::registry::oci::rfc3339(now)
            );
        }));
    }
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let auth = if opts.htpasswd.is_some() {
        if opts.anonymous_read {
            "htpasswd (anonymous pulls allowed)"
        } else {
            "htpasswd"
        }
    } else {
        "none: anyone who can connect may push"
    };
    let mode = if opts.read_only { ", read-only" } else { "" };
    let stop = crate::registry_cmd::cancel_flag();
    server::run(opts, stop, |addr| {
        let _ = writeln!(
            std::io::stderr().lock(),
            "serving {} on {scheme}://{addr} (auth: {auth}{mode}; single node; Ctrl-C stops)",
            root.display()
        );
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `30s`, `15m`, `1h`, `2d` or plain seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 15m, 1h, 2d)"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!(
                "`{text}` is not a duration (e.g. 30s, 15m, 1h, 2d)"
            ));
        }
    };
    n.checked_mul(mult)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// Flags of `spectro registry gc`.
#[derive(Debug, clap::Args)]
pub(crate) struct GcArgs {
    /// Registry folder (default: $SPECTRO_HOME/registry).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Keep unreferenced blobs younger than this (a push in progress uploads its blobs
    /// before its manifest): `30m`, `1h`, `2d`.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    grace: std::time::Duration,
    /// Only report what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn gc(args: GcArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let root = args
        .root
        .unwrap_or_else(|| spectro_home_from_env().join("registry"));
    if !root.is_dir() {
        return Err(format!("{} is not a registry folder", root.display()).into());
    }
    let store = spectro_packs::registry::LayoutStore::new(&root);
    let report = store.collect_all_garbage(args.grace, args.dry_run)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for r in &report.removed {
        writeln!(
            out,
            "{} {}",
            if args.dry_run {
                "would remove"
            } else {
                "removed"
            },
            spectro_packs::sanitize(r)
        )?;
    }
    for (repo, why) in &report.skipped {
        writeln!(
            out,
            "skipped {}: {}",
            spectro_packs::sanitize(repo),
            spectro_packs::sanitize(why)
        )?;
    }
    writeln!(
        out,
        "{} {} blob(s), {} bytes, in {} repositories; {} unreferenced blob(s) younger than the grace period kept",
        if args.dry_run {
            "would remove"
        } else {
            "removed"
        },
        report.removed.len(),
        report.bytes,
        report.repositories,
        report.kept_young
    )?;
    Ok(ExitCode::SUCCESS)
}
