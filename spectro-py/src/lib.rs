//! Python binding for `spectro-packs`: converts types and maps errors; every behaviour
//! stays in the library. The GIL is released during I/O and validation.
// Option structs are #[non_exhaustive]; outside the library they can only be filled this way.
#![allow(clippy::field_reassign_with_default)]

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spectro_packs::registry::{
    self, Credential, OciRegistry, PackRef, PullOptions, PushOptions, RegistryLocation,
    RemoteOptions,
};
use spectro_packs::{Error, ValidateOptions};

pyo3::import_exception!(spectro_packs, PackError);
pyo3::import_exception!(spectro_packs, ProfileError);
pyo3::import_exception!(spectro_packs, ArchiveError);
pyo3::import_exception!(spectro_packs, RegistryError);
pyo3::import_exception!(spectro_packs, AuthenticationError);
pyo3::import_exception!(spectro_packs, NotFoundError);

/// Which family an operation belongs to, for errors that are not specific.
#[derive(Clone, Copy)]
enum Domain {
    Pack,
    Profile,
    Registry,
}

fn to_py_err(e: Error, domain: Domain) -> PyErr {
    use spectro_packs::ErrorKind as K;
    let msg = e.to_string();
    let err = match (&e, e.kind()) {
        (Error::Archive { .. } | Error::InvalidIgnoreFile { .. }, _) => ArchiveError::new_err(msg),
        (Error::PackNotFound { .. }, _) => NotFoundError::new_err(msg),
        (_, K::Unauthenticated | K::PermissionDenied) => AuthenticationError::new_err(msg),
        (
            Error::AlreadyExists { .. }
            | Error::DigestMismatch { .. }
            | Error::CorruptRegistry { .. }
            | Error::InvalidReference { .. }
            | Error::Unsupported(_)
            | Error::Status { .. }
            | Error::Conflict { .. }
            | Error::Remote { .. }
            | Error::Protocol { .. },
            _,
        ) => RegistryError::new_err(msg),
        _ => match domain {
            Domain::Pack => PackError::new_err(msg),
            Domain::Profile => ProfileError::new_err(msg),
            Domain::Registry => RegistryError::new_err(msg),
        },
    };
    // The attributes callers match on, like jsonschema-rs's ValidationError.
    Python::attach(|py| {
        let v = err.value(py);
        let _ = v.setattr("kind", e.kind().as_str());
        let _ = v.setattr("reference", e.reference());
        let _ = v.setattr("path", e.path().map(|p| p.display().to_string()));
        let _ = v.setattr("status", e.http_status());
    });
    err
}

/// JSON value → Python object, built directly: dicts keep key order; integers that fit
/// 64 bits stay `int`, others are `float`, as JSON numbers are.
fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use pyo3::IntoPyObjectExt;
    use pyo3::types::{PyDict, PyList};
    Ok(match v {
        serde_json::Value::Null => py.None(),
        serde_json::Value::Bool(b) => b.into_py_any(py)?,
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.into_py_any(py)?,
            (None, Some(u), _) => u.into_py_any(py)?,
            (_, _, Some(f)) => f.into_py_any(py)?,
            _ => py.None(),
        },
        serde_json::Value::String(t) => t.into_py_any(py)?,
        serde_json::Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        serde_json::Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json_to_py(py, item)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// A lint finding. `to_dict()` has the same keys as `spectro validate --format json`.
#[pyclass(frozen, get_all, eq, hash, module = "spectro_packs")]
#[derive(PartialEq, Eq, Hash)]
struct Diagnostic {
    code: String,
    name: String,
    severity: String,
    message: String,
    file: String,
    pointer: String,
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    end_column: Option<u32>,
    help: Option<String>,
}

impl From<&spectro_packs::Diagnostic> for Diagnostic {
    fn from(d: &spectro_packs::Diagnostic) -> Self {
        Diagnostic {
            code: d.code.to_owned(),
            name: d.name.to_owned(),
            severity: d.severity.as_str().to_owned(),
            message: d.message.clone(),
            file: d.file.clone(),
            pointer: d.pointer.clone(),
            line: d.line.map(|l| l.get()),
            column: d.column.map(|c| c.get()),
            end_line: d.end_line.map(|l| l.get()),
            end_column: d.end_column.map(|c| c.get()),
            help: d.help.clone(),
        }
    }
}

#[pymethods]
impl Diagnostic {
    /// The finding as a dict with the CLI's JSON keys.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let v = serde_json::json!({
            "code": self.code, "name": self.name, "severity": self.severity, "message": self.message,
            "file": self.file, "pointer": self.pointer, "line": self.line, "column": self.column,
            "end_line": self.end_line, "end_column": self.end_column, "help": self.help,
        });
        json_to_py(py, &v)
    }

    fn __repr__(&self) -> String {
        let loc = match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            _ => self.file.clone(),
        };
        format!(
            "<Diagnostic {} {} {loc}: {}>",
            self.code, self.severity, self.message
        )
    }
}

/// A loaded pack.
#[pyclass(frozen, get_all, module = "spectro_packs")]
struct Pack {
    name: Option<String>,
    version: Option<String>,
    layer: Option<String>,
    display_name: Option<String>,
    manifest: Py<PyAny>,
    values: Py<PyAny>,
    path: String,
}

#[pymethods]
impl Pack {
    fn __repr__(&self) -> String {
        format!(
            "<Pack {}:{} ({})>",
            self.name.as_deref().unwrap_or("?"),
            self.version.as_deref().unwrap_or("?"),
            self.path
        )
    }
}

/// The findings for one pack or profile: `kind` (`"pack"` or `"profile"`), `path`, `name`,
/// `version`, `layer` (packs), `config` (the configuration file that applied) and
/// `diagnostics`. `to_dict()` has the CLI's JSON keys.
#[pyclass(frozen, get_all, module = "spectro_packs")]
struct Report {
    kind: String,
    path: String,
    name: Option<String>,
    version: Option<String>,
    layer: Option<String>,
    archive_root: Option<String>,
    config: Option<String>,
    diagnostics: Vec<Py<Diagnostic>>,
}

impl Report {
    fn new(py: Python<'_>, r: &spectro_packs::Report) -> PyResult<Self> {
        Ok(Report {
            kind: r.kind.as_str().to_owned(),
            path: r.path.display().to_string(),
            name: r.name.clone(),
            version: r.version.clone(),
            layer: r.layer.map(|l| l.to_string()),
            archive_root: r.archive_root.clone(),
            config: r.config.as_ref().map(|c| c.display().to_string()),
            diagnostics: r
                .diagnostics
                .iter()
                .map(|d| Py::new(py, Diagnostic::from(d)))
                .collect::<PyResult<_>>()?,
        })
    }
}

#[pymethods]
impl Report {
    /// Number of findings with this severity (`"error"`, `"warning"` or `"info"`).
    fn count(&self, py: Python<'_>, severity: &str) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.borrow(py).severity == severity)
            .count()
    }

    /// The report as a dict with the CLI's JSON keys.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        use pyo3::types::{PyDict, PyList};
        let dict = PyDict::new(py);
        dict.set_item("kind", &self.kind)?;
        dict.set_item("path", &self.path)?;
        dict.set_item("name", &self.name)?;
        dict.set_item("version", &self.version)?;
        dict.set_item("layer", &self.layer)?;
        if let Some(top) = &self.archive_root {
            dict.set_item("archive_root", top)?;
        }
        if let Some(config) = &self.config {
            dict.set_item("config", config)?;
        }
        let list = PyList::empty(py);
        for d in &self.diagnostics {
            list.append(d.borrow(py).to_dict(py)?)?;
        }
        dict.set_item("diagnostics", list)?;
        Ok(dict.into_any().unbind())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "<Report {} {}:{} ({}): {} findings>",
            self.kind,
            self.name.as_deref().unwrap_or("?"),
            self.version.as_deref().unwrap_or("?"),
            self.path,
            self.diagnostics.len()
        ) + if self.count(py, "error") > 0 {
            " with errors"
        } else {
            ""
        }
    }
}

/// Where the configuration file comes from: `config` wins, else none with `isolated`,
/// else the nearest one above each path (as the CLI).
fn config_source(config: Option<PathBuf>, isolated: bool) -> spectro_packs::settings::ConfigSource {
    use spectro_packs::settings::ConfigSource;
    match (config, isolated) {
        (Some(file), _) => ConfigSource::File(file),
        (None, true) => ConfigSource::Isolated,
        (None, false) => ConfigSource::Discover,
    }
}

/// Run library work on a thread pool created for this call and gone after it: a forked
/// child (multiprocessing, celery, gunicorn prefork) never inherits a pool whose threads
/// it does not have, nor locks they held.
fn fresh_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("spectro-{i}"))
        .build()
    {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// Load a pack directory.
#[pyfunction]
fn load_pack(py: Python<'_>, path: PathBuf) -> PyResult<Pack> {
    let pack = py
        .detach(|| fresh_pool(|| spectro_packs::load_pack(&path)))
        .map_err(|e| to_py_err(e, Domain::Pack))?;
    let m = pack.manifest();
    Ok(Pack {
        name: m.name.clone(),
        version: m.version.clone(),
        layer: m.layer.map(|l| l.to_string()),
        display_name: m.display_name.clone(),
        manifest: json_to_py(py, &pack.manifest_json())?,
        values: json_to_py(py, &pack.values_json())?,
        path: path.display().to_string(),
    })
}

/// The library's rule selection from the keyword arguments (the CLI's flags).
fn selection(
    select: Option<Vec<String>>,
    extend_select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    severity: Option<std::collections::HashMap<String, String>>,
    domain: Domain,
) -> PyResult<spectro_packs::RuleSelection> {
    // A dict in a stable order, as `SELECTOR=LEVEL` like the CLI's flag.
    let mut overrides: Vec<String> = severity
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    overrides.sort();
    spectro_packs::RuleSelection::parse(
        select.as_deref(),
        &extend_select.unwrap_or_default(),
        &ignore.unwrap_or_default(),
        &overrides,
    )
    .map_err(|e| to_py_err(e, domain))
}

/// Validate a pack directory, a folder of packs, or a pack archive: one report per pack.
#[pyfunction]
#[pyo3(signature = (path, *, select = None, extend_select = None, ignore = None, severity = None, config = None, isolated = false))]
#[allow(clippy::too_many_arguments)]
fn validate(
    py: Python<'_>,
    path: PathBuf,
    select: Option<Vec<String>>,
    extend_select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    severity: Option<std::collections::HashMap<String, String>>,
    config: Option<PathBuf>,
    isolated: bool,
) -> PyResult<Vec<Report>> {
    let opts = ValidateOptions::default()
        .with_selection(selection(
            select,
            extend_select,
            ignore,
            severity,
            Domain::Pack,
        )?)
        .with_config(config_source(config, isolated));
    let reports = py
        .detach(|| fresh_pool(|| spectro_packs::validate_paths(&[&path], &opts)))
        .map_err(|e| to_py_err(e, Domain::Pack))?;
    reports.iter().map(|r| Report::new(py, r)).collect()
}

/// Validate a cluster profile against local pack directories.
#[pyfunction]
#[pyo3(signature = (path, packs = None, *, select = None, extend_select = None, ignore = None, severity = None, config = None, isolated = false))]
#[allow(clippy::too_many_arguments)]
fn validate_profile(
    py: Python<'_>,
    path: PathBuf,
    packs: Option<Vec<PathBuf>>,
    select: Option<Vec<String>>,
    extend_select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    severity: Option<std::collections::HashMap<String, String>>,
    config: Option<PathBuf>,
    isolated: bool,
) -> PyResult<Report> {
    let opts = spectro_packs::ProfileOptions::default()
        .with_pack_dirs(packs.unwrap_or_default())
        .with_selection(selection(
            select,
            extend_select,
            ignore,
            severity,
            Domain::Profile,
        )?)
        .with_config(config_source(config, isolated));
    let report = py
        .detach(|| fresh_pool(|| spectro_packs::validate_profile(&path, &opts)))
        .map_err(|e| to_py_err(e, Domain::Profile))?;
    Report::new(py, &report)
}

/// Build `<name>-<version>.tar.gz`; returns the `sha256:` digest.
#[pyfunction]
#[pyo3(signature = (pack_dir, out, *, validate = true))]
fn build_archive(
    py: Python<'_>,
    pack_dir: PathBuf,
    out: PathBuf,
    validate: bool,
) -> PyResult<String> {
    let mut opts = spectro_packs::archive::BuildOptions::default();
    opts.validate = validate;
    let built = py
        .detach(|| fresh_pool(|| spectro_packs::archive::build_archive(&pack_dir, &out, &opts)))
        .map_err(|e| to_py_err(e, Domain::Pack))?;
    Ok(built.digest)
}

/// Every lint rule, of every family: the same dicts as `spectro rules --format json`
/// (code, name, family, severity, since, summary, explanation).
#[pyfunction]
fn rules(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(spectro_packs::all_rules())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &v)
}

/// A pack registry: a local path / `file://` URL (the embedded OCI-layout registry) or
/// `oci://host/base`.
#[pyclass(frozen, module = "spectro_packs")]
struct Registry {
    /// The client, and how to make it again.
    current: std::sync::Mutex<Option<Handles>>,
    location: RegistryLocation,
    remote_opts: Option<RemoteOptions>,
    /// Cancels every request of the remote client (set on Ctrl-C during ping, list or
    /// delete, which take no options).
    cancel: registry::CancelFlag,
}

/// A connected client and the process it was made in: an HTTP client's worker threads do
/// not survive `fork`, so a forked child makes its own on first use.
#[derive(Clone)]
struct Handles {
    pid: u32,
    inner: Arc<dyn registry::Registry>,
    remote: Option<Arc<OciRegistry>>,
}

impl Handles {
    fn open(loc: &RegistryLocation, remote: Option<&RemoteOptions>) -> PyResult<Handles> {
        let pid = std::process::id();
        match remote {
            None => {
                let inner = registry::open(loc).map_err(|e| to_py_err(e, Domain::Registry))?;
                Ok(Handles {
                    pid,
                    inner: Arc::from(inner),
                    remote: None,
                })
            }
            Some(opts) => {
                let r = Arc::new(
                    OciRegistry::connect(loc, opts.clone())
                        .map_err(|e| to_py_err(e, Domain::Registry))?,
                );
                Ok(Handles {
                    pid,
                    inner: r.clone(),
                    remote: Some(r),
                })
            }
        }
    }
}

impl Registry {
    /// The client for this process (made again after a fork).
    fn handles(&self) -> PyResult<Handles> {
        let mut cur = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cur.as_ref() {
            Some(h) if h.pid == std::process::id() => return Ok(h.clone()),
            _ => {}
        }
        let fresh = Handles::open(&self.location, self.remote_opts.as_ref())?;
        // The parent's client must not be dropped here: dropping an HTTP client joins
        // its worker thread, which does not exist in a forked child (a hang).
        if let Some(old) = cur.replace(fresh.clone()) {
            std::mem::forget(old);
        }
        Ok(fresh)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let cur = self
            .current
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(h) = cur.take()
            && h.pid != std::process::id()
        {
            // Made before a fork: see `handles`.
            std::mem::forget(h);
        }
    }
}

/// Run a cancellable registry operation without the GIL, polling for Ctrl-C every 50 ms:
/// on a signal the operation is cancelled (leaving registry and destination untouched)
/// and the signal's exception (KeyboardInterrupt) is raised.
///
/// `client` is the registry client's own flag (for operations without options: ping,
/// list, delete); it is set with the call's and cleared once the call returns.
fn interruptible<T: Send>(
    py: Python<'_>,
    client: Option<&registry::CancelFlag>,
    op: impl FnOnce(registry::CancelFlag) -> spectro_packs::Result<T> + Send,
) -> PyResult<T> {
    let cancel: registry::CancelFlag = Default::default();
    let mut signal: Option<PyErr> = None;
    let result = py.detach(|| {
        std::thread::scope(|s| {
            let flag = cancel.clone();
            let handle = s.spawn(move || fresh_pool(|| op(flag)));
            while !handle.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(50));
                if signal.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    cancel.store(true, std::sync::atomic::Ordering::SeqCst);
                    if let Some(c) = client {
                        c.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    signal = Some(e);
                }
            }
            handle.join().map_err(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                RegistryError::new_err(format!(
                    "internal error (a bug in spectro, please report it): {what}"
                ))
            })
        })
    });
    if let Some(c) = client {
        c.store(false, std::sync::atomic::Ordering::SeqCst);
    }
    match result? {
        // Completed before the interrupt could stop it: the promise is "completed → no
        // exception", so the late interrupt is dropped.
        Ok(v) => Ok(v),
        // Stopped by the interrupt: raise it (KeyboardInterrupt), nothing was changed.
        Err(Error::Cancelled) if signal.is_some() => {
            Err(signal.unwrap_or_else(|| RegistryError::new_err("cancelled")))
        }
        Err(e) => Err(to_py_err(e, Domain::Registry)),
    }
}

fn parse_ref(s: &str) -> PyResult<PackRef> {
    PackRef::parse(s).map_err(|e| to_py_err(e, Domain::Registry))
}

#[pymethods]
impl Registry {
    #[new]
    #[pyo3(signature = (url, *, username = None, password = None, insecure = false, plain_http = false, ca_file = None))]
    fn new(
        url: PathBuf,
        username: Option<String>,
        password: Option<String>,
        insecure: bool,
        plain_http: bool,
        ca_file: Option<PathBuf>,
    ) -> PyResult<Self> {
        // A str or any os.PathLike (pathlib.Path); `~` expands like in the CLI.
        let url = url
            .to_str()
            .ok_or_else(|| PyValueError::new_err("the registry location is not valid UTF-8"))?;
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let loc = RegistryLocation::parse(url)
            .map_err(|e| to_py_err(e, Domain::Registry))?
            .with_home(home.as_deref());
        let RegistryLocation::Oci { .. } = &loc else {
            if username.is_some()
                || password.is_some()
                || insecure
                || plain_http
                || ca_file.is_some()
            {
                return Err(PyValueError::new_err(
                    "credentials and TLS options apply to oci:// registries only",
                ));
            }
            return Ok(Registry {
                current: std::sync::Mutex::new(Some(Handles::open(&loc, None)?)),
                location: loc,
                remote_opts: None,
                cancel: Default::default(),
            });
        };
        let mut opts =
            RemoteOptions::from_env(url, &loc).map_err(|e| to_py_err(e, Domain::Registry))?;
        opts.plain_http |= plain_http;
        opts.insecure |= insecure;
        opts.ca_files.extend(ca_file);
        let cancel: registry::CancelFlag = Default::default();
        opts.cancel = Some(cancel.clone());
        opts.credential = match (username, password) {
            (Some(u), Some(p)) => {
                Some(Credential::try_basic(u, p).map_err(|e| to_py_err(e, Domain::Registry))?)
            }
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "give both username and password, or neither (to use saved credentials)",
                ));
            }
        };
        Ok(Registry {
            current: std::sync::Mutex::new(Some(Handles::open(&loc, Some(&opts))?)),
            location: loc,
            remote_opts: Some(opts),
            cancel,
        })
    }

    /// Check that a remote registry answers and accepts the credentials (no-op for a
    /// local registry).
    fn ping(&self, py: Python<'_>) -> PyResult<()> {
        match self.handles()?.remote {
            Some(r) => interruptible(py, Some(&self.cancel), move |_| r.ping()),
            None => Ok(()),
        }
    }

    /// Where this registry is.
    #[getter]
    fn location(&self) -> String {
        self.location.to_string()
    }

    /// Push a pack directory or archive; returns the manifest digest.
    #[pyo3(signature = (path, *, force = false, validate = true))]
    fn push(&self, py: Python<'_>, path: PathBuf, force: bool, validate: bool) -> PyResult<String> {
        let inner = &self.handles()?.inner;
        let out = interruptible(py, None, move |cancel| {
            let mut opts = PushOptions::default();
            opts.force = force;
            opts.no_validate = !validate;
            opts.cancel = Some(cancel);
            inner.push(&path, &opts)
        })?;
        Ok(out.manifest_digest)
    }

    /// Pull a pack (`name`, `name:version`, `name:1.x`, `name@sha256:...`); returns the
    /// path written (the pack directory, or the archive with `archive=True`).
    #[pyo3(signature = (r#ref, dest, *, archive = false, overwrite = false))]
    fn pull(
        &self,
        py: Python<'_>,
        r#ref: &str,
        dest: PathBuf,
        archive: bool,
        overwrite: bool,
    ) -> PyResult<String> {
        let r = parse_ref(r#ref)?;
        let inner = &self.handles()?.inner;
        let out = interruptible(py, None, move |cancel| {
            let mut opts = PullOptions::default();
            opts.archive_only = archive;
            opts.overwrite = overwrite;
            opts.cancel = Some(cancel);
            inner.pull(&r, &dest, &opts)
        })?;
        Ok(out.path.display().to_string())
    }

    /// Packs and versions, as dicts `{"name": ..., "versions": [{"version", "digest"}]}`.
    #[pyo3(signature = (name = None))]
    fn list(&self, py: Python<'_>, name: Option<String>) -> PyResult<Py<PyAny>> {
        let inner = self.handles()?.inner;
        let packs = interruptible(py, Some(&self.cancel), move |_| inner.list(name.as_deref()))?;
        let v = serde_json::to_value(&packs).map_err(|e| PyValueError::new_err(e.to_string()))?;
        json_to_py(py, &v)
    }

    /// Delete a version or digest.
    fn delete(&self, py: Python<'_>, r#ref: &str) -> PyResult<()> {
        let r = parse_ref(r#ref)?;
        let inner = self.handles()?.inner;
        interruptible(py, Some(&self.cancel), move |_| inner.delete(&r))
    }

    /// Another tag for the manifest an exact reference (version or digest) points at;
    /// `force` moves a tag that points elsewhere.
    #[pyo3(signature = (r#ref, new_tag, *, force = false))]
    fn tag(&self, py: Python<'_>, r#ref: &str, new_tag: String, force: bool) -> PyResult<()> {
        let r = parse_ref(r#ref)?;
        let inner = self.handles()?.inner;
        interruptible(py, Some(&self.cancel), move |_| {
            let mut opts = registry::TagOptions::default();
            opts.force = force;
            inner.tag(&r, &new_tag, &opts)
        })
    }

    /// The resolved version, digests and pack.json of a reference, read from the start
    /// of the archive (no full pull): `{"name", "version", "manifest_digest",
    /// "archive_digest", "archive_size", "pack_json"}`.
    fn inspect(&self, py: Python<'_>, r#ref: &str) -> PyResult<Py<PyAny>> {
        let r = parse_ref(r#ref)?;
        let inner = self.handles()?.inner;
        let found = interruptible(py, Some(&self.cancel), move |_| inner.inspect(&r))?;
        let layer = found.resolved.manifest.pack_layer().ok();
        let v = serde_json::json!({
            "name": found.resolved.name,
            "version": found.resolved.version,
            "manifest_digest": found.resolved.manifest_digest,
            "archive_digest": layer.map(|l| l.digest.clone()),
            "archive_size": layer.map(|l| l.size),
            "pack_json": found.pack_json,
        });
        json_to_py(py, &v)
    }

    fn __repr__(&self) -> String {
        format!("<Registry {}>", self.location)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<Report>()?;
    m.add_class::<Pack>()?;
    m.add_class::<Registry>()?;
    m.add_function(wrap_pyfunction!(load_pack, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(validate_profile, m)?)?;
    m.add_function(wrap_pyfunction!(build_archive, m)?)?;
    m.add_function(wrap_pyfunction!(rules, m)?)?;
    Ok(())
}
