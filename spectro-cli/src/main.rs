//! `spectro`: the command-line front end of `spectro-packs`.
//!
//! Parses arguments, calls the library, renders results and sets the exit code:
//! 0 clean, 1 findings at or above `--fail-on`, 2 could not run.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod config_cmd;
mod emit;
mod profile_cmd;
mod registry_cmd;
mod serve_cmd;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use emit::Format;
use spectro_packs::{Severity, Summary, ValidateOptions, all_rules, find_rule, validate_paths};

/// Lint, package and publish Spectro Cloud Palette packs.
#[derive(Debug, Parser)]
#[command(name = "spectro", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Change a safety limit for this run (repeatable), e.g. --limit file-size=64MiB;
    /// `spectro limits` lists them with their defaults.
    #[arg(long = "limit", global = true, value_name = "KEY=VALUE")]
    limits: Vec<String>,
}

/// The limits of this run: the defaults with every `--limit` applied (set once in
/// `main`, before any command runs).
static LIMITS: std::sync::OnceLock<spectro_packs::Limits> = std::sync::OnceLock::new();

/// This run's limits.
pub(crate) fn limits() -> &'static spectro_packs::Limits {
    LIMITS.get_or_init(spectro_packs::Limits::default)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate packs: pack.json, values.yaml, presets, schema.yaml, manifests and files.
    #[command(
        after_help = "Examples:\n  spectro validate ./my-pack\n  spectro validate packs/ --format json\n  spectro validate packs/ --fail-on warning"
    )]
    Validate(ValidateArgs),
    /// Build, inspect and publish pack archives.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Validate cluster profiles offline against the packs they use.
    #[command(subcommand)]
    Profile(profile_cmd::ProfileCommand),
    /// Configure registries.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Print an embedded JSON Schema (for editors: VS Code `json.schemas`,
    /// yaml-language-server `$schema`).
    #[command(
        after_help = "Examples:\n  spectro schema pack > pack.schema.json\n  spectro schema presets"
    )]
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        kind: SchemaArg,
    },
    /// Show the lint settings that apply to a path, and the file, table or flag each came
    /// from.
    #[command(
        after_help = "Examples:\n  spectro config packs/nginx\n  spectro config packs/nginx --all --json\n  spectro config . --ignore VL003"
    )]
    Config(config_cmd::ConfigArgs),
    /// List the safety limits (sizes, counts, time-outs), their values for this run and
    /// their defaults; change one with --limit KEY=VALUE.
    #[command(
        after_help = "Examples:\n  spectro limits\n  spectro limits --json\n  spectro validate big-pack/ --limit file-size=64MiB"
    )]
    Limits {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the language server on stdin/stdout: findings while typing, for the whole pack.
    #[command(
        after_help = "Editors start it; see the README for VS Code, Neovim, Helix and Zed.\nIt reads spectro.toml like `spectro validate`, and takes select/ignore/extendSelect/severity\nfrom the editor's settings (initializationOptions, workspace/didChangeConfiguration)."
    )]
    Lsp,
    /// Print shell completions (bash, zsh, fish, ...).
    #[command(
        after_help = "Examples:\n  spectro completions bash > /etc/bash_completion.d/spectro\n  spectro completions zsh > \"${fpath[1]}/_spectro\"\n  spectro completions fish > ~/.config/fish/completions/spectro.fish"
    )]
    Completions {
        /// Shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Examples:\n  spectro man > spectro.1 && man ./spectro.1")]
    Man,
    /// List the lint rules, or explain one.
    #[command(
        after_help = "Examples:\n  spectro rules\n  spectro rules PK006\n  spectro rules invalid-enum-value"
    )]
    Rules {
        /// A rule code (PK006) or name (invalid-enum-value) to explain.
        rule: Option<String>,
        /// Output format of the list.
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
    },
}

#[derive(Debug, Subcommand)]
enum PackCommand {
    /// Build `<name>-<version>.tar.gz` from a pack directory (deterministic, all cores).
    #[command(
        after_help = "Examples:\n  spectro pack build ./my-pack\n  spectro pack build ./my-pack -o dist/\n  SOURCE_DATE_EPOCH=1700000000 spectro pack build ./my-pack -o my-pack.tar.gz"
    )]
    Build {
        /// The pack directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Output file or directory (default: the current directory).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// Skip validation (by default packs with errors are refused).
        #[arg(long)]
        no_validate: bool,
        /// gzip level, 1 (fast) to 9 (small).
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
        level: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a new pack that validates cleanly, optionally from a Helm chart or a manifest.
    #[command(
        after_help = "Examples:\n  spectro pack new my-app --chart my-app-1.2.0.tgz\n  spectro pack new my-app --manifest deploy.yaml --addon-type monitoring\n  spectro pack new my-cni --layer cni -o packs/"
    )]
    New {
        /// Pack name (lowercase, a registry repository name).
        name: String,
        /// Layer.
        #[arg(long, default_value = "addon", value_parser = |s: &str| s.parse::<spectro_packs::Layer>())]
        layer: spectro_packs::Layer,
        /// A packaged Helm chart (.tgz): copied to charts/, its values nested under
        /// `charts.<chart>`, its images listed.
        #[arg(long, value_name = "CHART.tgz")]
        chart: Option<PathBuf>,
        /// A Kubernetes manifest: copied to manifests/, its images listed.
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// Pack version (default: the chart's version, else 1.0.0).
        #[arg(long, value_name = "VERSION")]
        pack_version: Option<String>,
        /// addonType for addon packs.
        #[arg(long, default_value = "system app")]
        addon_type: String,
        /// Parent directory (the pack is created in DIR/NAME).
        #[arg(short, long, default_value = ".")]
        output: PathBuf,
    },
    /// Push a pack directory or archive to a registry (as `<name>:<version>`).
    #[command(
        after_help = "Examples:\n  spectro pack push ./my-pack\n  spectro pack push my-pack-1.0.0.tar.gz --registry ./local-registry\n  spectro pack push ./my-pack --force"
    )]
    Push {
        /// Pack directory or .tar.gz archive.
        path: PathBuf,
        /// Replace an existing version whose content differs.
        #[arg(long, short)]
        force: bool,
        /// Skip validation.
        #[arg(long)]
        no_validate: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: registry_cmd::RegistryFlags,
    },
    /// Pull a pack (`name`, `name:version`, `name:1.28.x` or `name@sha256:...`).
    #[command(
        after_help = "Examples:\n  spectro pack pull nginx:1.11.2 -o packs/\n  spectro pack pull nginx:1.x --archive"
    )]
    Pull {
        /// Pack reference.
        reference: String,
        /// Destination directory (the pack lands in `DIR/<name>`).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Keep the .tar.gz instead of extracting it.
        #[arg(long)]
        archive: bool,
        /// Replace an existing pack directory.
        #[arg(long, short)]
        force: bool,
        #[command(flatten)]
        registry: registry_cmd::RegistryFlags,
    },
    /// List packs and versions.
    #[command(
        after_help = "Examples:\n  spectro pack ls\n  spectro pack ls --name nginx --format json"
    )]
    Ls {
        /// Only packs whose name contains this.
        #[arg(long, short)]
        name: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
        #[command(flatten)]
        registry: registry_cmd::RegistryFlags,
    },
    /// Delete a version (`name:version`) or a digest (`name@sha256:...`).
    Rm {
        /// Pack reference.
        reference: String,
        #[command(flatten)]
        registry: registry_cmd::RegistryFlags,
    },
    /// Add a tag to a pack version.
    Tag {
        /// Existing pack reference: an exact version or a digest.
        reference: String,
        /// New tag (not a version and not a pattern such as `1.x`).
        new_tag: String,
        /// Move the tag if it already points at another version.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        registry: registry_cmd::RegistryFlags,
    },
    /// Show a pack's manifest, digest, size and pack.json summary.
    Inspect {
        /// Pack reference.
        reference: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: registry_cmd::RegistryFlags,
    },
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Make a registry the default for every command.
    SetDefault {
        /// A path, `file://PATH` or `oci://host[:port]/base`.
        registry: String,
    },
    /// Log in to a remote registry: checks the credentials, then saves them in
    /// $SPECTRO_HOME/config.json (mode 0600).
    #[command(
        after_help = "Examples:\n  echo \"$TOKEN\" | spectro registry login registry.example.com -u ci --password-stdin\n  spectro registry login 127.0.0.1:5000 --plain-http -u admin"
    )]
    Login {
        /// Registry host (`host[:port]`; `https://`, `http://` and `oci://` prefixes are
        /// accepted, `http://` meaning --plain-http).
        host: String,
        /// User name (prompted for on a terminal when omitted).
        #[arg(long, short)]
        username: Option<String>,
        /// Password (visible in the process list and shell history: prefer
        /// --password-stdin).
        #[arg(long, short, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        tls: registry_cmd::TlsFlags,
    },
    /// Forget the credentials saved for a registry.
    Logout {
        /// Registry host.
        host: String,
    },
    /// Serve a registry folder over the OCI distribution API (v1.1): a single-node pack
    /// registry that Palette, ORAS, skopeo, Helm and spectro can push to and pull from.
    ///
    /// It serves the embedded registry's storage as is: what `spectro pack push` stored
    /// there is served, and what is pushed here is a pack the embedded registry reads.
    /// For more than one machine, run Harbor, Zot, CNCF distribution or a cloud
    /// registry instead.
    ///
    /// Ctrl-C or SIGTERM stops it: no new connections, requests in flight get up to 30 s,
    /// unfinished uploads are dropped. One request log line per request on stderr (no
    /// credentials, no upload session ids).
    #[command(
        after_help = "Examples:\n  spectro registry serve\n  spectro registry serve --root /srv/packs --addr 0.0.0.0:5000 --tls-cert cert.pem --tls-key key.pem --htpasswd users.htpasswd\n  spectro pack push ./my-pack -r oci://127.0.0.1:5000/base --plain-http"
    )]
    Serve(serve_cmd::ServeArgs),
    /// Remove blobs no manifest references any more (failed or replaced pushes) from a
    /// registry folder. Unreferenced blobs younger than --grace are kept, so a push in
    /// progress (also through `registry serve`) never loses what it uploaded.
    #[command(
        after_help = "Examples:\n  spectro registry gc --dry-run\n  spectro registry gc --root /srv/packs --grace 2h"
    )]
    Gc(serve_cmd::GcArgs),
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Pack directories, folders searched recursively for packs (by pack.json), or pack
    /// archives (.tar.gz, .tgz).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    lint: LintArgs,
}

/// Output, exit code, rule selection and configuration: the same for packs and profiles.
#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub(crate) fail_on: FailOn,
    /// Hide findings below this severity in the output (the summary and the exit code
    /// still count them).
    #[arg(long, value_enum, default_value_t = FailOn::Info)]
    pub(crate) min_severity: FailOn,
    /// Only print the summary line (human format).
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) rules: RuleFlags,
    #[command(flatten)]
    pub(crate) config: ConfigFlags,
}

/// Which configuration file applies.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConfigFlags {
    /// Use this configuration file (spectro.toml, or a pyproject.toml with
    /// [tool.spectro]) instead of the nearest one above each checked path.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "isolated",
        help_heading = "Configuration"
    )]
    pub(crate) config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, help_heading = "Configuration")]
    pub(crate) isolated: bool,
}

impl ConfigFlags {
    pub(crate) fn source(&self) -> spectro_packs::settings::ConfigSource {
        use spectro_packs::settings::ConfigSource;
        match (&self.config, self.isolated) {
            (Some(file), _) => ConfigSource::File(file.clone()),
            (None, true) => ConfigSource::Isolated,
            (None, false) => ConfigSource::Discover,
        }
    }
}

impl LintArgs {
    /// Print the reports in the chosen format; the exit code from every finding.
    pub(crate) fn finish(
        &self,
        all: Vec<spectro_packs::Report>,
        kind: spectro_packs::ReportKind,
        notes: Vec<String>,
    ) -> Result<ExitCode, Box<dyn std::error::Error>> {
        let summary = Summary::of(&all);
        let code = emit::exit_code(
            all.iter().flat_map(|r| &r.diagnostics),
            self.fail_on.severity(),
        );
        let min = self.min_severity.severity();
        let mut reports = all;
        for r in &mut reports {
            r.diagnostics.retain(|d| d.severity >= min);
        }
        let run = emit::Run {
            reports: &reports,
            summary: &summary,
            kind,
            quiet: self.quiet,
            notes,
        };
        let mut out = anstream::stdout().lock();
        self.format.emitter().emit(&mut out, &run)?;
        out.flush()?;
        Ok(code)
    }
}

/// Rule selection, like ruff's: selectors are rule codes (`PK010`), rule names
/// (`version-leading-v`), families (`PK`, `VL`, `PF`), code prefixes (`PK01`) or `ALL`;
/// the most specific one decides, and `ignore` wins a tie.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RuleFlags {
    /// Report only these rules (comma-separated or repeated; default: every rule).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "SELECTOR",
        help_heading = "Rule selection"
    )]
    select: Option<Vec<String>>,
    /// Report these rules too, on top of `--select` or the default.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "SELECTOR",
        help_heading = "Rule selection"
    )]
    extend_select: Vec<String>,
    /// Do not report these rules.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "SELECTOR",
        help_heading = "Rule selection"
    )]
    ignore: Vec<String>,
    /// Report these rules at another severity: `SELECTOR=error|warning|info` (repeatable).
    #[arg(
        long = "severity",
        value_name = "SELECTOR=LEVEL",
        help_heading = "Rule selection"
    )]
    severity: Vec<String>,
}

impl RuleFlags {
    /// The library's selection; a selector that names no rule is an error.
    pub(crate) fn selection(&self) -> Result<spectro_packs::RuleSelection, spectro_packs::Error> {
        spectro_packs::RuleSelection::parse(
            self.select.as_deref(),
            &self.extend_select,
            &self.ignore,
            &self.severity,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaArg {
    /// pack.json
    Pack,
    /// presets.yaml
    Presets,
    /// schema.yaml
    SchemaYaml,
    /// a cluster profile (export shape)
    Profile,
    /// spectro.toml (the lint configuration file)
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    pub(crate) fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut run_limits = spectro_packs::Limits::default();
    for pair in &cli.limits {
        if let Err(e) = run_limits.set_pair(pair) {
            let _ = writeln!(anstream::stderr(), "error: --limit {e}");
            return ExitCode::from(2);
        }
    }
    let _ = LIMITS.set(run_limits);
    let result = match cli.command {
        Command::Limits { json } => print_limits(json),
        Command::Validate(args) => validate(args),
        Command::Profile(cmd) => profile_cmd::run(cmd),
        Command::Rules { rule, format } => rules(rule.as_deref(), format),
        Command::Config(args) => config_cmd::run(args),
        Command::Lsp => spectro_packs::lsp::run_stdio_with(&limits().load_options())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
        Command::Schema { kind } => {
            let k = match kind {
                SchemaArg::Pack => spectro_packs::schema::SchemaKind::Pack,
                SchemaArg::Presets => spectro_packs::schema::SchemaKind::Presets,
                SchemaArg::SchemaYaml => spectro_packs::schema::SchemaKind::SchemaYaml,
                SchemaArg::Profile => spectro_packs::schema::SchemaKind::Profile,
                SchemaArg::Config => spectro_packs::schema::SchemaKind::Config,
            };
            let mut out = anstream::stdout().lock();
            out.write_all(k.text().as_bytes())
                .map(|()| ExitCode::SUCCESS)
                .map_err(Into::into)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "spectro",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map(|()| ExitCode::SUCCESS)
                .map_err(Into::into)
        }
        Command::Pack(PackCommand::Build {
            dir,
            output,
            no_validate,
            level,
            json,
        }) => pack_build(&dir, output, no_validate, level, json),
        Command::Pack(PackCommand::New {
            name,
            layer,
            chart,
            manifest,
            pack_version,
            addon_type,
            output,
        }) => {
            let mut spec = spectro_packs::scaffold::NewPack::new(&name, layer);
            spec.chart = chart;
            spec.manifest = manifest;
            spec.version = pack_version;
            spec.addon_type = addon_type;
            spectro_packs::scaffold::new_pack(&output, &spec)
                .map_err(Into::into)
                .and_then(|path| {
                    writeln!(
                        anstream::stdout(),
                        "Created {} (check it with `spectro validate {}`)",
                        path.display(),
                        path.display()
                    )?;
                    Ok(ExitCode::SUCCESS)
                })
        }
        Command::Pack(PackCommand::Push {
            path,
            force,
            no_validate,
            json,
            registry,
        }) => registry_cmd::push(&registry, &path, force, no_validate, json),
        Command::Pack(PackCommand::Pull {
            reference,
            output,
            archive,
            force,
            registry,
        }) => registry_cmd::pull(&registry, &reference, output, archive, force),
        Command::Pack(PackCommand::Ls {
            name,
            format,
            registry,
        }) => registry_cmd::ls(&registry, name.as_deref(), format == RulesFormat::Json),
        Command::Pack(PackCommand::Rm {
            reference,
            registry,
        }) => registry_cmd::rm(&registry, &reference),
        Command::Pack(PackCommand::Tag {
            reference,
            new_tag,
            force,
            registry,
        }) => registry_cmd::tag(&registry, &reference, &new_tag, force),
        Command::Pack(PackCommand::Inspect {
            reference,
            json,
            registry,
        }) => registry_cmd::inspect(&registry, &reference, json),
        Command::Registry(RegistryCommand::SetDefault { registry }) => {
            registry_cmd::set_default(&registry)
        }
        Command::Registry(RegistryCommand::Login {
            host,
            username,
            password,
            password_stdin,
            tls,
        }) => registry_cmd::login(&host, username, password, password_stdin, &tls),
        Command::Registry(RegistryCommand::Logout { host }) => registry_cmd::logout(&host),
        Command::Registry(RegistryCommand::Serve(args)) => serve_cmd::serve(args),
        Command::Registry(RegistryCommand::Gc(args)) => serve_cmd::gc(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed stdout (`spectro rules | head`) is not an error worth reporting.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let mut err = anstream::stderr();
            let red = anstyle::AnsiColor::Red.on_default().bold();
            // The message may quote registry answers, file and entry names: sanitised.
            let _ = writeln!(
                err,
                "{red}error{red:#}: {}",
                spectro_packs::sanitize(&e.to_string())
            );
            let mut source = e.source();
            while let Some(s) = source {
                let _ = writeln!(
                    err,
                    "  caused by: {}",
                    spectro_packs::sanitize(&s.to_string())
                );
                source = s.source();
            }
            if let Some(h) = e.downcast_ref::<spectro_packs::Error>().and_then(hint) {
                let _ = writeln!(err, "  hint: {h}");
            }
            ExitCode::from(2)
        }
    }
}

/// What to do about an error, in this CLI's terms (the library names no flags),
/// chosen by the error's kind.
fn hint(e: &spectro_packs::Error) -> Option<&'static str> {
    use spectro_packs::Error as E;
    use spectro_packs::ErrorKind as K;
    use spectro_packs::archive::ArchiveProblem as P;
    match (e, e.kind()) {
        (
            E::Archive {
                problem: P::Invalid { .. },
                ..
            },
            _,
        ) => Some("run `spectro validate` to see the findings (or pass --no-validate)"),
        (_, K::AlreadyExists) => Some("pass --force to replace it"),
        (_, K::Unauthenticated) => Some(
            "log in with `spectro registry login HOST`, or set SPECTRO_REGISTRY_USERNAME, SPECTRO_REGISTRY_PASSWORD and SPECTRO_REGISTRY_HOST",
        ),
        (_, K::PermissionDenied) => {
            Some("the account lacks the permission; ask the registry's admin")
        }
        (E::Remote { reason, .. }, K::Transport) if reason.contains("TLS failed") => {
            if reason.contains("corrupt message") || reason.contains("InvalidContentType") {
                Some("the server does not speak TLS: pass --plain-http for a plain-HTTP registry")
            } else {
                Some(
                    "trust its CA with --ca-file (or /etc/spectro/certs.d/<host>/ca.crt), or skip verification with --insecure",
                )
            }
        }
        (
            E::Status {
                status: 400,
                code: None,
                message: Some(m),
                ..
            },
            _,
        ) if m.contains("HTTPS") => Some("the registry speaks HTTPS: drop --plain-http"),
        (E::Status { status, .. }, _) if *status >= 500 => {
            Some("the registry failed; try again later")
        }
        (E::Unsupported(m), _) if m.contains("catalog") => {
            Some("list one pack by name: `spectro pack ls NAME`")
        }
        (E::Unsupported(m), _) if m.contains("deleting manifests") => Some(
            "the registry has deletes switched off (CNCF distribution: storage.delete.enabled)",
        ),
        _ => None,
    }
}

fn print_limits(json: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use spectro_packs::limits::{FIXED_LIMITS, LIMITS};
    let mut out = anstream::stdout().lock();
    if json {
        let rows: Vec<serde_json::Value> = LIMITS
            .iter()
            .map(|s| {
                serde_json::json!({
                    "key": s.key, "value": s.get(limits()), "default": s.default_value(),
                    "unit": format!("{:?}", s.unit).to_lowercase(), "caps": s.caps, "why": s.why,
                })
            })
            .collect();
        let fixed: Vec<serde_json::Value> = FIXED_LIMITS
            .iter()
            .map(|f| serde_json::json!({"caps": f.caps, "value": f.value, "why": f.why}))
            .collect();
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"limits": rows, "fixed": fixed}),
        )?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = LIMITS.iter().map(|s| s.key.len()).max().unwrap_or(0);
    for s in LIMITS {
        let value = s.get(limits());
        let note = if value == s.default_value() {
            String::new()
        } else {
            format!(" (default {})", s.display(s.default_value()))
        };
        writeln!(out, "{:width$}  {}{note}", s.key, s.display(value))?;
        writeln!(out, "{:width$}  caps {}", "", s.caps)?;
    }
    writeln!(out, "\nFixed (not configurable):")?;
    for f in FIXED_LIMITS {
        writeln!(out, "  {}: {}", f.caps, f.value)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let opts = ValidateOptions::default()
        .with_load(limits().load_options())
        .with_extract(limits().extract_limits())
        .with_selection(args.lint.rules.selection()?)
        .with_config(args.lint.config.source());
    let all = validate_paths(&args.paths, &opts)?;
    args.lint
        .finish(all, spectro_packs::ReportKind::Pack, Vec::new())
}

fn pack_build(
    dir: &std::path::Path,
    output: Option<PathBuf>,
    no_validate: bool,
    level: u32,
    json: bool,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut opts = spectro_packs::archive::BuildOptions::default();
    opts.validate = !no_validate;
    opts.level = level;
    opts.load = limits().load_options();
    if let Some(epoch) = registry_cmd::source_date_epoch()? {
        opts.mtime = epoch;
    }
    let out = output.unwrap_or_else(|| PathBuf::from("."));
    let built = spectro_packs::archive::build_archive(dir, &out, &opts)?;
    let mut stdout = anstream::stdout().lock();
    if json {
        let v = serde_json::json!({
            "path": built.path, "digest": built.digest, "size": built.size,
            "name": built.name, "version": built.version, "entries": built.entries,
        });
        writeln!(stdout, "{v}")?;
    } else {
        let green = anstyle::AnsiColor::Green.on_default().bold();
        writeln!(
            stdout,
            "{green}Built{green:#} {} ({} {}, {} entries)",
            built.path.display(),
            built.name,
            built.version,
            built.entries
        )?;
        writeln!(stdout, "  digest: {}", built.digest)?;
        writeln!(stdout, "  size:   {} bytes", built.size)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn rules(rule: Option<&str>, format: RulesFormat) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut out = anstream::stdout().lock();
    match rule {
        Some(code) => {
            let r = find_rule(code).ok_or_else(|| {
                format!("no rule with code or name `{code}` (see `spectro rules`)")
            })?;
            match format {
                RulesFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(r)?)?,
                RulesFormat::Human => writeln!(
                    out,
                    "# {} {} ({}, {}, since {})\n\n{}\n\n{}",
                    r.code,
                    r.name,
                    r.family().description,
                    r.severity,
                    r.since,
                    r.summary,
                    r.explanation
                )?,
            }
        }
        None => match format {
            RulesFormat::Json => {
                writeln!(out, "{}", serde_json::to_string_pretty(all_rules())?)?;
            }
            RulesFormat::Human => {
                for family in spectro_packs::families() {
                    writeln!(out, "{} ({})", family.prefix, family.description)?;
                    for r in all_rules().iter().filter(|r| r.family() == family) {
                        writeln!(
                            out,
                            "  {}  {:<32} {:<8} {}",
                            r.code,
                            r.name,
                            r.severity.as_str(),
                            r.summary
                        )?;
                    }
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
