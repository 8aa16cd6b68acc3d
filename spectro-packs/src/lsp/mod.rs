//! `spectro lsp`: a language server (stdio) that lints whole packs from the editor's
//! unsaved buffers and publishes findings for every file of the pack.
//!
//! Built on rust-analyzer's synchronous `lsp-server` and the generated `gen-lsp-types`:
//! one thread owns the state (open buffers, the last published findings per pack), so
//! notifications are handled in the order they came, as the protocol requires.
//!
//! - **Documents**: full and incremental sync. A change in any file of a pack (found as
//!   the nearest folder above the file holding `pack.json`) re-lints that pack with every
//!   open buffer of it laid over the disk, and publishes for each file of the pack with
//!   findings, open or not; files whose findings went away get an empty list.
//! - **Settings**: the nearest `spectro.toml` / `[tool.spectro]` applies as for the CLI,
//!   read again on every lint (so edits to it apply without restart); the client's
//!   `initializationOptions` and `workspace/didChangeConfiguration` settings (`select`,
//!   `extendSelect`, `ignore`, `severity`) are the command line's layer.
//! - **Positions** in the encoding negotiated at `initialize` (UTF-32, UTF-8 or UTF-16);
//!   a finding's range runs to the end of its token (the library's end position).
//! - **Hover** over a finding: the rule's explanation (`spectro rules CODE`); over a key,
//!   the schema's description; over a `{{ .spectro.* }}` macro, what Palette puts there.
//! - **Completion** of keys and enum values from the schemas, in JSON and YAML files.
//! - **Quick fixes** for findings whose rule knows the one answer (a did-you-mean, a
//!   leading `v`, `iamge`): the edit is computed here and travels in the diagnostic's
//!   `data`, because some clients send the range back in other units. A
//!   `source.fixAll.spectro` action applies every such fix of a file.
//! - **Profiles**: an open JSON/YAML file outside any pack with `spec.template.packs` (or
//!   a profile `spec.template.type`) is linted against the packs of the workspace folders and the `packs` setting (loaded once,
//!   again after a pack changes on disk).
//! - **Watched files** when the client can watch for a server; settings pulled with
//!   `workspace/configuration` from clients that send `null` on change.
//! - A [`crate::ParseCache`] keeps the parses of unchanged files between keystrokes.

mod macros;
mod schema_help;
mod text;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gen_lsp_types as lsp;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use serde_json::{Value, json};

use crate::profile::{PackIndex, ProfileOptions};
use crate::settings::ConfigSource;
use crate::{Diagnostic, RuleSelection, Severity, ValidateOptions};
use text::Encoding;

/// Run the server over stdin/stdout until the client says `exit`.
pub fn run_stdio() -> crate::Result<()> {
    run_stdio_with(&crate::LoadOptions::default())
}

/// [`run_stdio`] with other loading limits (`max_file_size` also caps editor buffers).
pub fn run_stdio_with(load: &crate::LoadOptions) -> crate::Result<()> {
    let (connection, io) = Connection::stdio();
    let result = serve_with(&connection, load);
    drop(connection);
    let joined = io.join();
    // After `shutdown` and `exit`, editors close the pipes at once: what the I/O threads
    // say about that (a broken pipe, a message after `exit`) does not matter. Before
    // it, their error is the reason the session ended.
    match (result, joined) {
        (Ok(()), _) => Ok(()),
        (Err(_), Err(e)) => Err(crate::Error::io(PathBuf::from("<stdio>"), e)),
        (Err(e), Ok(())) => Err(e),
    }
}

/// Run the server on a connection (stdio, or `Connection::memory()` in tests) until
/// the client says `exit` or goes away.
pub fn serve(connection: &Connection) -> crate::Result<()> {
    serve_with(connection, &crate::LoadOptions::default())
}

/// [`serve`] with other loading limits (`max_file_size` also caps editor buffers).
pub fn serve_with(connection: &Connection, load: &crate::LoadOptions) -> crate::Result<()> {
    let protocol = |e: lsp_server::ProtocolError| {
        crate::Error::Unsupported(format!("language server protocol: {e}"))
    };
    let (id, params) = connection.initialize_start().map_err(protocol)?;
    let params: lsp::InitializeParams =
        serde_json::from_value(params).unwrap_or_else(|_| lsp::InitializeParams::default());
    let offered: Vec<String> = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.clone())
        .unwrap_or_default()
        .into_iter()
        .map(String::from)
        .collect();
    let encoding = Encoding::negotiate(&offered);
    let mut server = Server {
        load: *load,
        encoding,
        docs: HashMap::new(),
        published: HashMap::new(),
        findings: HashMap::new(),
        selection: RuleSelection::default(),
        setting_error: None,
        lint_errors: HashMap::new(),
        workspace: workspace_of(&params),
        pack_dirs: Vec::new(),
        index: None,
        rules_url: None,
        profiles: HashSet::new(),
        pull_config: params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.configuration)
            .unwrap_or(false),
        next_request: 0,
        outbox: Vec::new(),
        outbox_notes: Vec::new(),
        applied: None,
        pulled: false,
        cache: Arc::new(crate::ParseCache::new()),
    };
    if let Some(options) = &params.initialization_options {
        server.apply_settings(options);
    }
    let result = json!({
        "capabilities": {
            "positionEncoding": encoding.name(),
            "textDocumentSync": {
                "openClose": true,
                "change": 2,
                "save": {"includeText": false},
            },
            "hoverProvider": true,
            "completionProvider": {"triggerCharacters": ["\""]},
            "codeActionProvider": {"codeActionKinds": ["quickfix", "source.fixAll.spectro"]},
            "workspace": {"workspaceFolders": {"supported": true, "changeNotifications": true}},
        },
        "serverInfo": {"name": "spectro", "version": env!("CARGO_PKG_VERSION")},
    });
    connection.initialize_finish(id, result).map_err(protocol)?;
    // Files changed outside the editor (a `git checkout`, a generator, spectro.toml):
    // ask the client to tell us, when it can watch for a server.
    let can_watch = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    if can_watch {
        let watchers: Vec<Value> = WATCHED.iter().map(|g| json!({"globPattern": g})).collect();
        let register = lsp_server::Request::new(
            lsp_server::RequestId::from("spectro-watch".to_owned()),
            "client/registerCapability".to_owned(),
            json!({"registrations": [{
                "id": "spectro-watch",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": {"watchers": watchers},
            }]}),
        );
        let _ = connection.sender.send(register.into());
    }
    if let Some(e) = &server.setting_error {
        let _ = connection
            .sender
            .send(show_message(1, &format!("spectro settings: {e}")).into());
    }
    // `initialized` was read by `initialize_finish`: a pull-model client is asked for
    // its settings now.
    if let Some(req) = server.config_request() {
        let _ = connection.sender.send(req.into());
    }
    for message in &connection.receiver {
        match message {
            Message::Request(req) => {
                match connection.handle_shutdown(&req) {
                    Ok(true) => return Ok(()),
                    Ok(false) => {}
                    // The client went away after asking to shut down: done as well.
                    Err(e) if e.channel_is_disconnected() => return Ok(()),
                    Err(e) => return Err(protocol(e)),
                }
                let response = server.request(req);
                let _ = connection.sender.send(response.into());
            }
            Message::Notification(note) => {
                for out in server.notification(note) {
                    let _ = connection.sender.send(out.into());
                }
            }
            Message::Response(response) => {
                let ours = matches!(&response.id.to_string(), id if id.contains("spectro-config-"));
                if ours {
                    let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        server.config_response(&response)
                    }))
                    .unwrap_or_else(|_| {
                        vec![show_message(
                            1,
                            "spectro failed applying the settings; the findings may be stale",
                        )]
                    });
                    for out in answered {
                        let _ = connection.sender.send(out.into());
                    }
                }
            }
        }
        for req in server.outbox.drain(..) {
            let _ = connection.sender.send(req.into());
        }
    }
    Err(crate::Error::Unsupported(
        "the client closed the connection without `shutdown`".into(),
    ))
}

/// Files whose change on disk changes findings: a pack's files and the lint settings.
const WATCHED: &[&str] = &[
    "**/pack.json",
    "**/values.yaml",
    "**/presets.yaml",
    "**/schema.yaml",
    "**/manifests/**",
    "**/charts/**",
    "**/spectro.toml",
    "**/.spectro.toml",
    "**/pyproject.toml",
];

/// An open buffer.
struct Doc {
    version: i32,
    text: String,
}

/// A finding as published, kept for hovers and fix-all.
struct Published {
    range: lsp::Range,
    code: &'static str,
    /// Title and the edit (range, new text) of its fix.
    fix: Option<(String, lsp::Range, String)>,
}

struct Server {
    /// Loading limits for every lint.
    load: crate::LoadOptions,
    encoding: Encoding,
    /// Open buffers by file path.
    docs: HashMap<PathBuf, Doc>,
    /// Per pack folder: the files last published with findings.
    published: HashMap<PathBuf, HashSet<PathBuf>>,
    /// Per file: the findings last published.
    findings: HashMap<PathBuf, Vec<Published>>,
    /// The client's settings: the command line's layer.
    selection: RuleSelection,
    /// The client's settings did not parse: said once in a message.
    setting_error: Option<String>,
    /// Per pack folder: the last reason it could not be linted (said once).
    lint_errors: HashMap<PathBuf, String>,
    /// The workspace folders: where profiles find their packs.
    workspace: Vec<PathBuf>,
    /// Extra pack folders for profiles, from the client's `packs` setting.
    pack_dirs: Vec<PathBuf>,
    /// The packs of `workspace` and `pack_dirs`, loaded on the first profile lint and
    /// again after a pack changes on disk.
    index: Option<Arc<PackIndex>>,
    /// Where a rule's documentation is, from the client's `rulesUrl` setting: `{code}`
    /// and `{name}` are replaced (for `codeDescription`).
    rules_url: Option<String>,
    /// Open profiles (exports in JSON or YAML outside any pack), linted on their own.
    profiles: HashSet<PathBuf>,
    /// Whether the client answers `workspace/configuration` (pull-model settings).
    pull_config: bool,
    /// Ids of our requests to the client.
    next_request: i32,
    /// Parses of unchanged files, kept between lints (a keystroke re-parses only the
    /// buffer it changed).
    cache: Arc<crate::ParseCache>,
    /// The client's settings last applied (a pulled answer equal to them changes nothing).
    applied: Option<Value>,
    /// Whether settings were ever pulled (a `null` answer after that means "removed").
    pulled: bool,
    /// Requests to send to the client after the current message.
    outbox: Vec<Request>,
    /// Messages for the client produced while loading (sent with the next lint).
    outbox_notes: Vec<Notification>,
}

/// `{select, extendSelect, ignore, severity}` from the client (top level, or under
/// `spectro`).
fn selection_from(options: &Value) -> Result<RuleSelection, String> {
    let options = options.get("spectro").unwrap_or(options);
    let list = |key: &str| -> Vec<String> {
        options
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let select = options
        .get("select")
        .and_then(Value::as_array)
        .map(|_| list("select"));
    let severity: Vec<String> = options
        .get("severity")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|l| format!("{k}={l}")))
                .collect()
        })
        .unwrap_or_default();
    RuleSelection::parse(
        select.as_deref(),
        &list("extendSelect"),
        &list("ignore"),
        &severity,
    )
    .map_err(|e| e.to_string())
}

/// The nearest folder at or above `file`'s folder that holds a `pack.json`.
fn pack_root_of(file: &Path) -> Option<PathBuf> {
    file.parent()?
        .ancestors()
        .find(|dir| dir.join(crate::files::PACK_JSON).is_file())
        .map(Path::to_path_buf)
}

/// The workspace folders the client opened (`workspaceFolders`, else `rootUri`).
fn workspace_of(params: &lsp::InitializeParams) -> Vec<PathBuf> {
    let folders: Vec<PathBuf> = match &params.workspace_folders_initialize_params.workspace_folders
    {
        Some(lsp::WorkspaceFolders::WorkspaceFolderList(list)) => {
            list.iter().filter_map(|f| file_path(&f.uri)).collect()
        }
        _ => Vec::new(),
    };
    if !folders.is_empty() {
        return folders;
    }
    // Older clients send only the root (deprecated in favour of the folders).
    #[allow(deprecated)]
    let root = params.root_uri.as_ref();
    root.and_then(file_path).into_iter().collect()
}

/// Whether an open file outside any pack is a cluster profile (a Palette export in JSON
/// or YAML): a mapping with `spec.template.packs` or a profile `spec.template.type`. A
/// buffer that does not parse (being typed) counts when it names `spec`, `template` and
/// `packs`.
fn is_profile(path: &Path, text: &str) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("json" | "yaml" | "yml")) {
        return false;
    }
    let profile = crate::profile::parse_profile(path, text.to_owned());
    match profile.root() {
        // `spec.template.packs` (or a profile `type`): a Kubernetes object also has
        // `spec` and often `spec.template`, never these.
        Some(root) => root
            .get("spec")
            .and_then(|s| s.get("template"))
            .is_some_and(|t| {
                t.get("packs").is_some()
                    || t.get("type")
                        .and_then(|v| v.as_str())
                        .is_some_and(|v| matches!(v, "cluster" | "infra" | "add-on" | "system"))
            }),
        None => text.contains("spec") && text.contains("template") && text.contains("packs"),
    }
}

fn file_path(uri: &lsp::Uri) -> Option<PathBuf> {
    if uri.scheme() != "file" {
        return None;
    }
    uri.to_file_path().ok()
}

fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::Error,
        Severity::Warning => lsp::DiagnosticSeverity::Warning,
        _ => lsp::DiagnosticSeverity::Information,
    }
}

impl Server {
    fn apply_settings(&mut self, options: &Value) {
        self.applied = Some(options.clone());
        match selection_from(options) {
            Ok(s) => {
                self.selection = s;
                self.setting_error = None;
            }
            Err(e) => self.setting_error = Some(e),
        }
        let options = options.get("spectro").unwrap_or(options);
        // Pack folders for profiles: absolute, or relative to the first workspace folder.
        let base = self.workspace.first().cloned().unwrap_or_default();
        let dirs: Vec<PathBuf> = options
            .get("packs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|d| base.join(d))
            .collect();
        if dirs != self.pack_dirs {
            self.pack_dirs = dirs;
            self.index = None;
        }
        self.rules_url = options
            .get("rulesUrl")
            .and_then(Value::as_str)
            .filter(|u| u.contains("{code}") || u.contains("{name}"))
            // A workspace's settings are not trusted: only web links (no `command:` URIs).
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_owned);
    }

    /// `codeDescription` for a rule, when the client said where rule docs live.
    fn rule_link(&self, code: &str) -> Option<lsp::CodeDescription> {
        let template = self.rules_url.as_ref()?;
        let name = crate::find_rule(code).map_or("", |r| r.name);
        let href = template
            .replace("{code}", code)
            .replace("{name}", name)
            .parse::<lsp::Uri>()
            .ok()?;
        Some(lsp::CodeDescription::new(href))
    }

    /// A `workspace/configuration` request for the `spectro` section (pull-model
    /// clients: Neovim, Helix, Zed); the answer arrives as a response.
    fn config_request(&mut self) -> Option<Request> {
        if !self.pull_config {
            return None;
        }
        self.next_request += 1;
        Some(Request::new(
            lsp_server::RequestId::from(format!("spectro-config-{}", self.next_request)),
            "workspace/configuration".to_owned(),
            json!({"items": [{"section": "spectro"}]}),
        ))
    }

    /// The client's answer to a `workspace/configuration` request: the settings, then
    /// every shown pack and profile linted with them.
    fn config_response(&mut self, response: &lsp_server::Response) -> Vec<Notification> {
        let Ok(Value::Array(items)) = &response.response_result else {
            return Vec::new();
        };
        // No settings for us: the defaults once pulled settings were removed, else what
        // `initializationOptions` gave stays. Settings already applied: nothing to do.
        let empty = json!({});
        let settings = match items.first().filter(|v| v.is_object()) {
            Some(s) => s,
            None if self.pulled => &empty,
            None => return Vec::new(),
        };
        if self.applied.as_ref() == Some(settings) {
            return Vec::new();
        }
        self.pulled = true;
        let mut out = Vec::new();
        self.apply_settings(settings);
        if let Some(e) = &self.setting_error {
            out.push(show_message(1, &format!("spectro settings: {e}")));
        }
        out.extend(self.relint_shown(true));
        out
    }

    /// Lint again every pack the editor shows (open buffers or published findings),
    /// or only those with a changed file; and every open profile.
    fn relint_shown(&mut self, profiles: bool) -> Vec<Notification> {
        let roots: HashSet<PathBuf> = self
            .docs
            .keys()
            .filter_map(|p| pack_root_of(p))
            .chain(
                self.published
                    .keys()
                    .filter(|p| !self.profiles.contains(*p))
                    .cloned(),
            )
            .collect();
        let mut out = Vec::new();
        for root in roots {
            out.extend(self.lint(&root));
        }
        if profiles {
            out.extend(self.lint_profiles());
        }
        out
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let method = req.method.clone();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match method.as_str() {
                "textDocument/hover" => {
                    match serde_json::from_value::<lsp::HoverParams>(req.params) {
                        Ok(p) => Ok(self.hover(&p)),
                        Err(e) => Err((ErrorCode::InvalidParams, e.to_string())),
                    }
                }
                "textDocument/codeAction" => Ok(self.code_actions(&req.params)),
                "textDocument/completion" => Ok(self.completion(&req.params)),
                other => Err((
                    ErrorCode::MethodNotFound,
                    format!("spectro does not answer `{other}`"),
                )),
            }));
        match outcome {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                format!("spectro failed on `{method}`"),
            ),
        }
    }

    fn notification(&mut self, note: Notification) -> Vec<Notification> {
        let method = note.method.clone();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(note))).unwrap_or_else(
            |_| {
                vec![show_message(
                    1,
                    &format!("spectro failed on `{method}`; the findings may be stale"),
                )]
            },
        )
    }

    fn handle(&mut self, note: Notification) -> Vec<Notification> {
        let params = note.params;
        let touched: Option<PathBuf> = match note.method.as_str() {
            "textDocument/didOpen" => serde_json::from_value::<lsp::DidOpenTextDocumentParams>(params)
                .ok()
                .and_then(|p| {
                    let path = file_path(&p.text_document.uri)?;
                    if pack_root_of(&path).is_none()
                        && (p.text_document.text.len() as u64) <= self.load.max_file_size
                        && is_profile(&path, &p.text_document.text)
                    {
                        self.profiles.insert(path.clone());
                    }
                    self.docs.insert(
                        path.clone(),
                        Doc {
                            version: p.text_document.version,
                            text: p.text_document.text,
                        },
                    );
                    Some(path)
                }),
            "textDocument/didChange" => {
                serde_json::from_value::<lsp::DidChangeTextDocumentParams>(params)
                    .ok()
                    .and_then(|p| {
                        let path = file_path(&p.text_document.text_document_identifier.uri)?;
                        let doc = self.docs.get_mut(&path)?;
                        doc.version = p.text_document.version;
                        for change in p.content_changes {
                            match change {
                                lsp::TextDocumentContentChangeEvent::TextDocumentContentChangePartial(c) => {
                                    text::apply_edit(&mut doc.text, c.range, &c.text, self.encoding);
                                }
                                lsp::TextDocumentContentChangeEvent::TextDocumentContentChangeWholeDocument(c) => {
                                    doc.text = c.text;
                                }
                            }
                        }
                        Some(path)
                    })
            }
            "textDocument/didSave" => {
                let saved = serde_json::from_value::<lsp::DidSaveTextDocumentParams>(params)
                    .ok()
                    .and_then(|p| file_path(&p.text_document.uri));
                // Profiles resolve packs from disk: a saved pack file changes them.
                if let Some(path) = &saved
                    && let Some(root) = pack_root_of(path)
                {
                    self.index = None;
                    let mut out = self.lint(&root);
                    out.extend(self.lint_profiles());
                    return out;
                }
                saved
            }
            "textDocument/didClose" => {
                let closed = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(params)
                    .ok()
                    .and_then(|p| {
                        let path = file_path(&p.text_document.uri)?;
                        self.docs.remove(&path);
                        Some(path)
                    });
                // A closed profile is no longer followed: its findings are cleared.
                if let Some(path) = &closed
                    && self.profiles.remove(path)
                {
                    self.published.remove(path);
                    self.findings.remove(path);
                    return self.publish(path, Vec::new()).into_iter().collect();
                }
                closed
            }
            "workspace/didChangeWatchedFiles" => {
                let changed: Vec<PathBuf> = params["changes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["uri"].as_str()?.parse::<lsp::Uri>().ok())
                    .filter_map(|u| file_path(&u))
                    .collect();
                let settings_changed = changed.iter().any(|p| {
                    p.file_name().is_some_and(|n| {
                        n == "spectro.toml" || n == ".spectro.toml" || n == "pyproject.toml"
                    })
                });
                // A pack changed on disk: profiles resolve against the new packs.
                let packs_changed = changed.iter().any(|p| {
                    self.workspace
                        .iter()
                        .chain(&self.pack_dirs)
                        .any(|d| p.starts_with(d))
                        && p.extension().is_none_or(|e| e != "toml")
                });
                if packs_changed {
                    self.index = None;
                }
                // Only packs the editor shows: with open buffers or published findings.
                let mut shown: HashSet<PathBuf> = self
                    .docs
                    .keys()
                    .filter_map(|p| pack_root_of(p))
                    .collect();
                shown.extend(
                    self.published
                        .keys()
                        .filter(|p| !self.profiles.contains(*p))
                        .cloned(),
                );
                let roots: Vec<PathBuf> = shown
                    .into_iter()
                    .filter(|root| settings_changed || changed.iter().any(|p| p.starts_with(root)))
                    .collect();
                let mut out = Vec::new();
                for root in roots {
                    out.extend(self.lint(&root));
                }
                if packs_changed || settings_changed {
                    out.extend(self.lint_profiles());
                }
                return out;
            }
            "workspace/didChangeWorkspaceFolders" => {
                let event = &params["event"];
                let folders = |key: &str| -> Vec<PathBuf> {
                    event[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["uri"].as_str()?.parse::<lsp::Uri>().ok())
                        .filter_map(|u| file_path(&u))
                        .collect()
                };
                let removed = folders("removed");
                self.workspace.retain(|w| !removed.contains(w));
                for added in folders("added") {
                    if !self.workspace.contains(&added) {
                        self.workspace.push(added);
                    }
                }
                self.index = None;
                let out = self.lint_profiles();
                return out;
            }
            "workspace/didChangeConfiguration" => {
                // Push-model clients send the settings; pull-model ones send `null` (or
                // an empty object) and are asked for them.
                let pushed = params
                    .get("settings")
                    .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
                    .filter(|v| v.get("spectro").is_none_or(Value::is_object));
                match pushed {
                    Some(settings) => self.apply_settings(settings),
                    None => {
                        if let Some(req) = self.config_request() {
                            self.outbox.push(req);
                            return Vec::new();
                        }
                        // A push client's empty settings: back to the defaults.
                        if let Some(empty) = params.get("settings").filter(|v| v.is_object()) {
                            self.apply_settings(empty);
                        }
                    }
                }
                let mut out = Vec::new();
                if let Some(e) = &self.setting_error {
                    out.push(show_message(1, &format!("spectro settings: {e}")));
                }
                out.extend(self.relint_shown(true));
                return out;
            }
            _ => None,
        };
        let Some(path) = touched else {
            return Vec::new();
        };
        match pack_root_of(&path) {
            Some(root) => self.lint(&root),
            None if self.profiles.contains(&path) => self.lint_profile(&path),
            None => Vec::new(),
        }
    }

    /// The schema of an open file: a pack file by its name, or a profile.
    fn schema_kind(&self, path: &Path) -> Option<crate::schema::SchemaKind> {
        if self.profiles.contains(path) {
            return Some(crate::schema::SchemaKind::Profile);
        }
        schema_help::kind_of(path)
    }

    /// The packs profiles resolve against, loaded once and kept until a pack changes.
    fn pack_index(&mut self) -> Arc<PackIndex> {
        if let Some(index) = &self.index {
            return Arc::clone(index);
        }
        // Each folder on its own: one without packs (a folder of profiles) must not
        // empty the index for the others.
        let mut dirs: Vec<PathBuf> = Vec::new();
        for dir in self.workspace.iter().chain(&self.pack_dirs) {
            if !dirs.contains(dir) && crate::discover_packs(dir).is_ok_and(|p| !p.is_empty()) {
                dirs.push(dir.clone());
            }
        }
        let index = match PackIndex::load(&dirs, &self.load) {
            Ok(i) => i,
            Err(e) => {
                let message = format!("spectro could not load the workspace's packs: {e}");
                self.outbox_notes.push(show_message(2, &message));
                PackIndex::empty()
            }
        };
        let index = Arc::new(index);
        self.index = Some(Arc::clone(&index));
        index
    }

    /// Lint every open profile again (the packs or the settings changed).
    fn lint_profiles(&mut self) -> Vec<Notification> {
        let open: Vec<PathBuf> = self.profiles.iter().cloned().collect();
        open.iter().flat_map(|p| self.lint_profile(p)).collect()
    }

    /// Lint an open profile (its buffer) against the workspace's packs and publish.
    fn lint_profile(&mut self, path: &Path) -> Vec<Notification> {
        let Some(text) = self.docs.get(path).map(|d| d.text.clone()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let diagnostics = if text.len() as u64 > self.load.max_file_size {
            let message = format!(
                "spectro: {} is larger than the {} bytes a buffer may have; not linted",
                path.display(),
                self.load.max_file_size
            );
            out.push(show_message(2, &message));
            self.findings.remove(path);
            Vec::new()
        } else {
            let profile = crate::profile::parse_profile(path, text);
            let index = self.pack_index();
            out.append(&mut self.outbox_notes);
            let opts = ProfileOptions::default()
                .with_load(self.load)
                .with_selection(self.selection.clone())
                .with_config(ConfigSource::Discover);
            match crate::profile::validate_loaded_profile(&profile, &index, &opts) {
                Ok(report) => {
                    let findings: Vec<&Diagnostic> = report.diagnostics.iter().collect();
                    self.convert(path, &findings)
                }
                Err(e) => {
                    let message = format!("spectro could not lint {}: {e}", path.display());
                    if self.lint_errors.get(path) != Some(&message) {
                        out.push(show_message(1, &message));
                        self.lint_errors.insert(path.to_path_buf(), message);
                    }
                    self.findings.remove(path);
                    Vec::new()
                }
            }
        };
        self.published
            .insert(path.to_path_buf(), HashSet::from([path.to_path_buf()]));
        out.extend(self.publish(path, diagnostics));
        out
    }

    /// Lint one pack with its open buffers and publish for every file of it.
    fn lint(&mut self, root: &Path) -> Vec<Notification> {
        let overlay: crate::Overlay = self
            .docs
            .iter()
            .filter(|(p, _)| p.starts_with(root))
            .map(|(p, d)| (p.clone(), d.text.clone()))
            .collect();
        let opts = ValidateOptions::default()
            .with_load(self.load)
            .with_selection(self.selection.clone())
            .with_config(ConfigSource::Discover)
            .with_overlay(Arc::new(overlay))
            .with_parse_cache(Arc::clone(&self.cache));
        let report = match crate::validate_pack_with(root, &opts) {
            Ok(r) => r,
            Err(e) => {
                // Old findings (and their fixes) no longer match the buffers: clear them,
                // and say why once, not on every keystroke.
                let mut out = Vec::new();
                for gone in self.published.remove(root).unwrap_or_default() {
                    self.findings.remove(&gone);
                    out.extend(self.publish(&gone, Vec::new()));
                }
                let message = format!("spectro could not lint {}: {e}", root.display());
                if self.lint_errors.get(root) != Some(&message) {
                    out.push(show_message(1, &message));
                    self.lint_errors.insert(root.to_path_buf(), message);
                }
                return out;
            }
        };
        self.lint_errors.remove(root);
        let mut by_file: BTreeMap<PathBuf, Vec<&Diagnostic>> = BTreeMap::new();
        for d in &report.diagnostics {
            let mut file = root.join(&d.file);
            // A finding about a file that is not there (a missing values.yaml, logo)
            // is shown on pack.json, which names the pack.
            if d.line.is_none() && !file.is_file() && !self.docs.contains_key(&file) {
                file = root.join(crate::files::PACK_JSON);
            }
            by_file.entry(file).or_default().push(d);
        }
        let mut out = Vec::new();
        let previous = self.published.remove(root).unwrap_or_default();
        for gone in previous.iter().filter(|p| !by_file.contains_key(*p)) {
            self.findings.remove(gone);
            if let Some(n) = self.publish(gone, Vec::new()) {
                out.push(n);
            }
        }
        let mut now = HashSet::new();
        for (file, findings) in by_file {
            let diagnostics = self.convert(&file, &findings);
            if let Some(n) = self.publish(&file, diagnostics) {
                out.push(n);
            }
            now.insert(file);
        }
        self.published.insert(root.to_path_buf(), now);
        out
    }

    /// The LSP diagnostics of `file`'s findings (ranges in the negotiated encoding, fixes
    /// in `data`), remembered for hovers and fix-all.
    fn convert(&mut self, file: &Path, findings: &[&Diagnostic]) -> Vec<lsp::Diagnostic> {
        let text = match self.docs.get(file) {
            Some(d) => d.text.clone(),
            None => std::fs::read_to_string(file).unwrap_or_default(),
        };
        let starts = text::line_starts(&text);
        let mut line_cache = None;
        let mut kept = Vec::new();
        let diagnostics: Vec<lsp::Diagnostic> = findings
            .iter()
            .map(|d| {
                let (range, whole) = match (d.line, d.column) {
                    (Some(l), Some(c)) => text::finding_range(
                        &text,
                        &starts,
                        l.get(),
                        c.get(),
                        d.end_column
                            .filter(|_| d.end_line == d.line)
                            .map(|e| e.get()),
                        self.encoding,
                        &mut line_cache,
                    ),
                    _ => (lsp::Range::default(), false),
                };
                // Only when the token is the whole value: `namespace: My NS` would
                // otherwise become `my-ns NS`.
                let fix = d.fix.as_ref().filter(|_| whole).map(|f| {
                    let start = text::offset(&text, &starts, range.start, self.encoding);
                    let end = text::offset(&text, &starts, range.end, self.encoding);
                    let token = &text[start..end.max(start)];
                    (f.title.clone(), range, requote(token, &f.replacement))
                });
                kept.push(Published {
                    range,
                    code: d.code,
                    fix: fix.clone(),
                });
                let mut message = d.message.clone();
                if !file.ends_with(&d.file) {
                    message = format!("{}: {message}", d.file);
                }
                if let Some(h) = &d.help {
                    message.push_str(&format!("\n\nhelp: {h}"));
                }
                let mut diagnostic = lsp::Diagnostic::new(
                    range,
                    Some(severity(d.severity)),
                    Some(lsp::Code::String(d.code.to_owned())),
                    None,
                    Some("spectro".to_owned()),
                    lsp::Message::String(message),
                    None,
                    None,
                    Some(match &fix {
                        Some((title, r, new_text)) => json!({
                            "rule": d.name, "pointer": d.pointer,
                            "fix": {"title": title, "range": r, "newText": new_text},
                        }),
                        None => json!({"rule": d.name, "pointer": d.pointer}),
                    }),
                );
                diagnostic.code_description = self.rule_link(d.code);
                diagnostic
            })
            .collect();
        self.findings.insert(file.to_path_buf(), kept);
        diagnostics
    }

    fn publish(&self, file: &Path, diagnostics: Vec<lsp::Diagnostic>) -> Option<Notification> {
        let uri = lsp::Uri::from_file_path(file).ok()?;
        let version = self.docs.get(file).map(|d| d.version);
        let params = lsp::PublishDiagnosticsParams::new(uri, version, diagnostics);
        Some(Notification::new(
            "textDocument/publishDiagnostics".to_owned(),
            params,
        ))
    }

    /// The explanation of each rule with a finding under the cursor.
    fn hover(&mut self, p: &lsp::HoverParams) -> Value {
        let at = &p.text_document_position_params;
        let Some(path) = file_path(&at.text_document.uri) else {
            return Value::Null;
        };
        let pos = at.position;
        let inside = |r: &lsp::Range| {
            let after_start = (pos.line, pos.character) >= (r.start.line, r.start.character);
            let before_end = (pos.line, pos.character) <= (r.end.line, r.end.character);
            after_start && before_end
        };
        let mut codes: Vec<&str> = self
            .findings
            .get(&path)
            .into_iter()
            .flatten()
            .filter(|f| inside(&f.range))
            .map(|f| f.code)
            .collect();
        codes.dedup();
        let parts: Vec<String> = codes
            .iter()
            .filter_map(|c| crate::find_rule(c))
            .map(|r| {
                format!(
                    "### {} `{}` ({})\n\n{}\n\n{}",
                    r.code, r.name, r.severity, r.summary, r.explanation
                )
            })
            .collect();
        let mut parts = parts;
        // Without a finding there: a Palette macro under the cursor, else the field's
        // documentation from the schema.
        let text = self
            .docs
            .get(&path)
            .filter(|d| d.text.len() as u64 <= self.load.max_file_size)
            .map(|d| d.text.clone());
        if parts.is_empty()
            && let Some(text) = &text
        {
            let starts = text::line_starts(text);
            let offset = text::offset(text, &starts, pos, self.encoding);
            let line = text::line(text, &starts, pos.line as usize);
            let line_start = starts.get(pos.line as usize).copied().unwrap_or(text.len());
            if let Some((name, functions)) =
                macros::macro_at(line, offset.saturating_sub(line_start))
            {
                let index = name
                    .starts_with(".spectro.pack.")
                    .then(|| self.pack_index());
                let lookup = |pack: &str, dotted: &str| -> Option<(String, String)> {
                    let index = index.as_ref()?;
                    let version = index.versions(pack).last()?.to_string();
                    let crate::profile::Resolution::Found { pack: found, .. } =
                        index.resolve(pack, None, Some(&version))
                    else {
                        return None;
                    };
                    let mut node = &found.values.document()?.root;
                    for key in dotted.split('.').filter(|k| !k.is_empty()) {
                        node = node.get(key)?;
                    }
                    let mut shown = serde_json::to_string_pretty(&node.to_json()).ok()?;
                    if shown.len() > 2000 {
                        let cut = (0..=2000).rev().find(|&i| shown.is_char_boundary(i))?;
                        shown.truncate(cut);
                        shown.push_str("\n…");
                    }
                    Some((version, shown))
                };
                parts.push(macros::describe(name, functions, &lookup));
            } else if let Some(kind) = self.schema_kind(&path) {
                parts.extend(schema_help::hover(kind, text, offset));
            }
        }
        if parts.is_empty() {
            return Value::Null;
        }
        json!({"contents": {"kind": "markdown", "value": parts.join("\n\n---\n\n")}})
    }

    /// Keys and enum values from the schema of an open pack.json.
    fn completion(&self, params: &Value) -> Value {
        let Ok(p) = serde_json::from_value::<lsp::CompletionParams>(params.clone()) else {
            return Value::Null;
        };
        let at = &p.text_document_position_params;
        let Some(path) = file_path(&at.text_document.uri) else {
            return Value::Null;
        };
        let (Some(kind), Some(doc)) = (self.schema_kind(&path), self.docs.get(&path)) else {
            return Value::Null;
        };
        // A buffer over the file-size cap gets its finding (FS002), not completion.
        if doc.text.len() as u64 > self.load.max_file_size {
            return Value::Null;
        }
        let starts = text::line_starts(&doc.text);
        let offset = text::offset(&doc.text, &starts, at.position, self.encoding);
        schema_help::complete(kind, &doc.text, offset)
    }
}

impl Server {
    /// Quick fixes from the `data` of the diagnostics the client sends (their ranges are
    /// not trusted: some clients send them back in other units), and a fix-all action
    /// over the file's last published findings.
    fn code_actions(&self, params: &Value) -> Value {
        let Some(uri) = params["textDocument"]["uri"].as_str() else {
            return json!([]);
        };
        let only: Vec<&str> = params["context"]["only"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let wants = |kind: &str| only.is_empty() || only.iter().any(|o| kind.starts_with(o));
        let mut actions = Vec::new();
        if wants("quickfix") {
            for d in params["context"]["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let fix = &d["data"]["fix"];
                if d["source"] != "spectro" || !fix.is_object() {
                    continue;
                }
                actions.push(json!({
                    "title": fix["title"],
                    "kind": "quickfix",
                    "diagnostics": [d],
                    "isPreferred": true,
                    "edit": {"changes": {uri: [{"range": fix["range"], "newText": fix["newText"]}]}},
                }));
            }
        }
        let path = lsp::Uri::parse(uri).ok().and_then(|u| file_path(&u));
        if wants("source.fixAll.spectro")
            && let Some(found) = path.as_ref().and_then(|p| self.findings.get(p))
        {
            let mut edits: Vec<&(String, lsp::Range, String)> =
                found.iter().filter_map(|f| f.fix.as_ref()).collect();
            edits.sort_by_key(|(_, r, _)| (r.start.line, r.start.character));
            // Overlapping edits cannot be applied together: the first wins.
            let mut kept: Vec<Value> = Vec::new();
            let mut last_end = (0u32, 0u32);
            for (_, r, new_text) in edits {
                if kept.is_empty() || (r.start.line, r.start.character) >= last_end {
                    kept.push(json!({"range": r, "newText": new_text}));
                    last_end = (r.end.line, r.end.character);
                }
            }
            if !kept.is_empty() {
                actions.push(json!({
                    "title": "Fix all spectro findings with a known fix",
                    "kind": "source.fixAll.spectro",
                    "edit": {"changes": {uri: kept}},
                }));
            }
        }
        Value::Array(actions)
    }
}

/// The replacement for a token, keeping the token's quotes (JSON or YAML double quotes
/// with JSON escaping, YAML single quotes with `''`).
fn requote(token: &str, value: &str) -> String {
    if token.starts_with('"') {
        serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
    } else if token.starts_with('\'') {
        format!("'{}'", value.replace('\'', "''"))
    } else {
        value.to_owned()
    }
}

/// `window/showMessage` (1 error, 2 warning, 3 info).
fn show_message(kind: u8, message: &str) -> Notification {
    Notification::new(
        "window/showMessage".to_owned(),
        json!({"type": kind, "message": message}),
    )
}

#[cfg(test)]
mod tests;
