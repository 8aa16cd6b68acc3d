//! `spectro pack push|pull|ls|rm|tag|inspect` and `spectro registry set-default`.

use std::io::Write;

use spectro_packs::sanitize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use spectro_packs::registry::config::Config;
use spectro_packs::registry::{
    self, Credential, OciRegistry, PackRef, PullOptions, PushOptions, Registry, RegistryLocation,
    RemoteOptions, oci,
};

type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// Flags every registry command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RegistryFlags {
    /// Registry to use: a path or `file://PATH` (embedded registry) or `oci://host[:port]/base`.
    /// Default: `defaultRegistry` from $SPECTRO_HOME/config.json, else $SPECTRO_HOME/registry.
    #[arg(long, short = 'r', global = true, env = "SPECTRO_REGISTRY")]
    registry: Option<String>,
    #[command(flatten)]
    tls: TlsFlags,
}

/// How to reach a remote registry.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct TlsFlags {
    /// Use plain HTTP (no TLS) — for local test registries only.
    #[arg(long, global = true)]
    plain_http: bool,
    /// Use TLS but do not verify the certificate (self-signed test registries).
    #[arg(long, global = true)]
    insecure: bool,
    /// Also trust this CA certificate (PEM); `/etc/spectro/certs.d/<host>/*.crt` are
    /// trusted automatically.
    #[arg(long, global = true, value_name = "PEM")]
    ca_file: Vec<PathBuf>,
}

/// Remote options from flags, saved per-registry settings and the credential chain
/// ($SPECTRO_HOME/config.json, Docker's config.json, SPECTRO_REGISTRY_USERNAME/PASSWORD).
/// `saved`: the registry whose saved login flags apply (none for `registry login`, which
/// takes its flags from the command line only).
fn remote_options(
    text: &str,
    saved: Option<&RegistryLocation>,
    tls: &TlsFlags,
) -> Result<RemoteOptions, Box<dyn std::error::Error>> {
    let local = RegistryLocation::Local(PathBuf::new());
    let config = registry::config::config_path(&spectro_home_from_env());
    if let Some(warning) = Config::permission_warning(&config) {
        let _ = writeln!(
            anstream::stderr(),
            "warning: {}",
            spectro_packs::sanitize(&warning)
        );
    }
    let mut opts = RemoteOptions::from_env(text, saved.unwrap_or(&local))?;
    opts.plain_http |= tls.plain_http;
    opts.insecure |= tls.insecure;
    opts.ca_files = tls.ca_file.clone();
    opts.cancel = Some(cancel_flag());
    crate::limits().apply_remote(&mut opts);
    Ok(opts)
}

use spectro_packs::registry::config::spectro_home_from_env;

/// `$SPECTRO_HOME/config.json`.
fn config_path() -> PathBuf {
    spectro_packs::registry::config::config_path(&spectro_home_from_env())
}

fn open(flags: &RegistryFlags) -> Result<Box<dyn Registry>, Box<dyn std::error::Error>> {
    let text = match &flags.registry {
        Some(r) => r.clone(),
        None => match Config::load(&config_path())?.default_registry {
            Some(r) => r,
            None => spectro_home_from_env()
                .join("registry")
                .display()
                .to_string(),
        },
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let loc = RegistryLocation::parse(&text)?.with_home(home.as_deref());
    let opts = remote_options(&text, Some(&loc), &flags.tls)?;
    Ok(registry::open_with(&loc, opts)?)
}

/// The process-wide cancellation flag, set by Ctrl-C and SIGTERM (`timeout`, CI
/// cancellation, `docker stop`): the running operation stops at its next check (every
/// request polls it while waiting) and removes what it had started. A second signal exits
/// at once; stale temporary files are swept by the next run.
pub(crate) fn cancel_flag() -> registry::CancelFlag {
    static FLAG: std::sync::OnceLock<registry::CancelFlag> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag: registry::CancelFlag = Default::default();
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, std::sync::atomic::Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        flag
    })
    .clone()
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
    let cancel = cancel_flag();
    let progress: registry::ProgressFn = std::sync::Arc::new(move |p| match p {
        registry::Progress::Transfer { done, .. } => bar.set_position(done),
        registry::Progress::Building => bar.set_message("building archive"),
        registry::Progress::Extracting => bar.finish_and_clear(),
        _ => {}
    });
    (progress, cancel)
}

/// `SOURCE_DATE_EPOCH`, when set: the one reader for `pack build` and `pack push`.
pub(crate) fn source_date_epoch() -> Result<Option<u64>, Box<dyn std::error::Error>> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        None => Ok(None),
        Some(v) => {
            let v = v.to_string_lossy();
            let secs = v.trim().parse::<u64>().map_err(|_| {
                format!(
                    "SOURCE_DATE_EPOCH `{}` is not a number of seconds",
                    spectro_packs::sanitize(&v)
                )
            })?;
            Ok(Some(secs))
        }
    }
}

fn created_now() -> Result<String, Box<dyn std::error::Error>> {
    let secs = match source_date_epoch()? {
        Some(s) => s,
        None => std::time::SystemTime::now()
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
    opts.load = crate::limits().load_options();
    opts.extract = crate::limits().extract_limits();
    opts.force = force;
    opts.no_validate = no_validate;
    opts.created = Some(created_now()?);
    opts.mtime = source_date_epoch()?;
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
    opts.extract = crate::limits().extract_limits();
    opts.max_archive_bytes = crate::limits().layer_size;
    opts.archive_only = archive;
    opts.overwrite = force;
    let (progress, cancel) = progress_and_cancel("pulling");
    opts.progress = Some(progress);
    opts.cancel = Some(cancel);
    let out = reg.pull(&r, &output.unwrap_or_else(|| PathBuf::from(".")), &opts)?;
    writeln!(
        anstream::stdout(),
        "Pulled {}:{} to {}\n  archive digest: {}",
        r.name,
        sanitize(&out.version),
        sanitize(&out.path.display().to_string()),
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
        // Names and tags come from the registry: sanitised before they reach a terminal.
        let versions: Vec<&str> = p.versions.iter().map(|v| v.version.as_str()).collect();
        writeln!(
            stdout,
            "{:<40} {}",
            sanitize(&p.name),
            sanitize(&versions.join(", "))
        )?;
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

pub(crate) fn tag(flags: &RegistryFlags, reference: &str, new_tag: &str, force: bool) -> CmdResult {
    let reg = open(flags)?;
    let r = PackRef::parse(reference)?;
    let mut opts = registry::TagOptions::default();
    opts.force = force;
    reg.tag(&r, new_tag, &opts)?;
    writeln!(anstream::stdout(), "Tagged {r} as {}:{new_tag}", r.name)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn inspect(flags: &RegistryFlags, reference: &str, json_out: bool) -> CmdResult {
    let reg = open(flags)?;
    let r = PackRef::parse(reference)?;
    // pack.json comes from the start of the archive: no full pull.
    let found = reg.inspect(&r)?;
    let resolved = &found.resolved;
    let version = resolved
        .version
        .clone()
        .unwrap_or_else(|| resolved.manifest_digest.clone());
    let m = &found.pack;
    let layer = resolved.manifest.pack_layer().ok();
    let summary = json!({
        "reference": format!("{}:{}", r.name, version), "registry": reg.location(),
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
            sanitize(&version),
            reg.location()
        )?;
        writeln!(stdout, "  manifest: {}", resolved.manifest_digest)?;
        if let Some(l) = layer {
            writeln!(
                stdout,
                "  archive:  {} ({} bytes, {})",
                l.digest,
                l.size,
                sanitize(&l.media_type)
            )?;
        }
        writeln!(
            stdout,
            "  pack:     {} {} layer={} type={}",
            sanitize(m.display_name.as_deref().unwrap_or("-")),
            sanitize(m.version.as_deref().unwrap_or("-")),
            m.layer.map_or("-".into(), |l| l.to_string()),
            sanitize(m.addon_type.as_deref().unwrap_or("-"))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn set_default(registry: &str) -> CmdResult {
    RegistryLocation::parse(registry)?;
    let path = config_path();
    Config::update(&path, |cfg| {
        cfg.default_registry = Some(registry.to_owned());
        Ok(())
    })?;
    writeln!(
        anstream::stdout(),
        "Default registry set to {registry} ({})",
        path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn remote_host(input: &str) -> Result<(RegistryLocation, String), Box<dyn std::error::Error>> {
    match RegistryLocation::parse(input)? {
        RegistryLocation::Oci { host, .. } => Ok((
            RegistryLocation::Oci {
                host: host.clone(),
                base: String::new(),
            },
            host,
        )),
        other => Err(format!(
            "`{input}` is a local registry ({other}); login is for remote registries (host[:port])"
        )
        .into()),
    }
}

fn prompt(label: &str) -> Result<String, Box<dyn std::error::Error>> {
    let mut err = anstream::stderr();
    write!(err, "{label}: ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub(crate) fn login(
    input: &str,
    username: Option<String>,
    password: Option<String>,
    password_stdin: bool,
    tls: &TlsFlags,
) -> CmdResult {
    let (loc, host) = remote_host(input)?;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let username = match username {
        Some(u) => u,
        None if interactive && !password_stdin => prompt("Username")?,
        None => return Err("give a user name with --username".into()),
    };
    if username.is_empty() {
        return Err("the user name is empty".into());
    }
    let password = if let Some(p) = password {
        writeln!(
            anstream::stderr(),
            "warning: a password on the command line is visible to other users; use --password-stdin"
        )?;
        p
    } else if password_stdin {
        let mut p = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut p)?;
        p.trim_end_matches(['\r', '\n']).to_owned()
    } else if interactive {
        rpassword::prompt_password("Password: ")?
    } else {
        return Err("give the password with --password-stdin (or -p)".into());
    };
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    // Checked before anything is sent (the save would refuse it only after the ping).
    let credential = Credential::try_basic(&username, &password)?;
    let mut opts = remote_options(input, None, tls)?;
    opts.credential = Some(credential);
    let reg = OciRegistry::connect(&loc, opts.clone())?;
    reg.ping()
        .map_err(|e| format!("login to {host} failed: {e}"))?;
    let path = config_path();
    Config::update(&path, |cfg| {
        cfg.set_login(&host, &username, &password, opts.plain_http, opts.insecure)
    })?;
    writeln!(
        anstream::stdout(),
        "Login succeeded: {username}@{host} (saved in {})",
        path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn logout(input: &str) -> CmdResult {
    let (_, host) = remote_host(input)?;
    let path = config_path();
    if !Config::update(&path, |cfg| Ok(cfg.remove_login(&host)))? {
        writeln!(anstream::stdout(), "Not logged in to {host}")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        anstream::stdout(),
        "Removed the credentials for {host} from {}",
        path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
