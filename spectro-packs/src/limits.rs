//! Every cap spectro puts on data it does not trust, in one place.
//!
//! [`Limits`] holds the caps a user may need to move (a pack with a 40 MiB values.yaml, a
//! registry with 200 000 tags, a slow link), each under a stable key such as `file-size`,
//! with its default and the reason for it in [`LIMITS`]. Options structs take their caps
//! from it ([`Limits::load_options`], [`Limits::extract_limits`], ...), and the CLI sets
//! any of them with `--limit KEY=VALUE`; `spectro limits` prints the table that
//! `docs/limits.md` shows.
//!
//! A few caps are fixed because they frame a protocol rather than size a payload; they
//! are listed in [`FIXED_LIMITS`] with the reason they do not move.

use crate::archive::ExtractLimits;
use crate::syntax::YamlLimits;
use crate::{Error, LoadOptions};

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// Bytes; values take `KiB`, `MiB` and `GiB` suffixes.
    Bytes,
    /// A count.
    Count,
    /// Seconds; values take `s`, `m` and `h` suffixes.
    Seconds,
    /// Bytes per second (`KiB`, `MiB` suffixes).
    BytesPerSecond,
}

/// One configurable limit: its key, unit, default, what it caps and why.
#[derive(Debug, Clone, Copy)]
pub struct LimitSpec {
    /// The key of `--limit KEY=VALUE`.
    pub key: &'static str,
    /// What the value counts.
    pub unit: Unit,
    /// What it caps (where spectro applies it).
    pub caps: &'static str,
    /// Why the default is what it is.
    pub why: &'static str,
    /// Smallest value accepted (0 only where none makes sense, as for retries).
    pub min: u64,
    get: fn(&Limits) -> u64,
    set: fn(&mut Limits, u64),
}

impl LimitSpec {
    /// This limit's value in `limits`.
    pub fn get(&self, limits: &Limits) -> u64 {
        (self.get)(limits)
    }

    /// The default value.
    pub fn default_value(&self) -> u64 {
        (self.get)(&Limits::default())
    }

    /// `value` written for people in this limit's unit (`16 MiB`, `100000`, `30 s`).
    pub fn display(&self, value: u64) -> String {
        match self.unit {
            Unit::Bytes => bytes(value),
            Unit::BytesPerSecond => format!("{}/s", bytes(value)),
            Unit::Count => value.to_string(),
            Unit::Seconds => format!("{value} s"),
        }
    }
}

fn bytes(v: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if v >= 1 << shift && v.is_multiple_of(1 << shift) {
            return format!("{} {unit}", v >> shift);
        }
    }
    format!("{v} B")
}

/// A cap that does not move, and why.
#[derive(Debug, Clone, Copy)]
pub struct FixedLimit {
    /// What is capped.
    pub caps: &'static str,
    /// The value.
    pub value: &'static str,
    /// Why it is not configurable.
    pub why: &'static str,
}

/// The configurable caps. Build from [`Limits::default`] and [`Limits::set`], or set the
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest pack text file read (pack.json, values, presets, schema, manifests), also an
    /// editor buffer in the language server.
    pub file_size: u64,
    /// Most entries listed in a pack folder.
    pub tree_entries: u64,
    /// Deepest YAML nesting.
    pub yaml_depth: u64,
    /// Most YAML nodes aliases may copy in, in total.
    pub yaml_alias_nodes: u64,
    /// Largest profile file read.
    pub profile_size: u64,
    /// Total bytes extracted from one archive.
    pub archive_size: u64,
    /// Bytes of one file in an archive.
    pub archive_file_size: u64,
    /// Entries in one archive.
    pub archive_entries: u64,
    /// Tar headers and extension records between two archive entries.
    pub archive_header_size: u64,
    /// Largest pack archive (layer) downloaded.
    pub layer_size: u64,
    /// Pages followed in one tag list or catalog.
    pub list_pages: u64,
    /// Names accepted in one tag list or catalog.
    pub list_entries: u64,
    /// Retries of one idempotent request.
    pub retries: u64,
    /// Longest `Retry-After` honoured, in seconds.
    pub retry_after: u64,
    /// No retry starts this many seconds after the first attempt.
    pub retry_total: u64,
    /// Seconds a request may wait for its answer to start.
    pub request_timeout: u64,
    /// Slowest transfer accepted, in bytes per second.
    pub min_transfer_rate: u64,
    /// Size of an upload chunk.
    pub chunk_size: u64,
    /// Largest archive uploaded in one PUT instead of chunks.
    pub monolithic_max: u64,
    /// `registry serve`: largest blob accepted in one upload.
    pub serve_upload_size: u64,
    /// `registry serve`: largest manifest accepted.
    pub serve_manifest_size: u64,
    /// `registry serve`: upload sessions open at once.
    pub serve_sessions: u64,
    /// `registry serve`: connections served at once.
    pub serve_connections: u64,
    /// `registry serve`: seconds a client may stay silent (headers, body, TLS handshake).
    pub serve_idle_timeout: u64,
}

impl Default for Limits {
    fn default() -> Self {
        let load = LoadOptions::default();
        let extract = ExtractLimits::default();
        #[allow(clippy::cast_possible_truncation)]
        Limits {
            file_size: load.max_file_size,
            tree_entries: load.max_entries as u64,
            yaml_depth: load.yaml.max_depth as u64,
            yaml_alias_nodes: load.yaml.max_alias_nodes as u64,
            profile_size: crate::profile::DEFAULT_MAX_PROFILE_BYTES,
            archive_size: extract.max_total_bytes,
            archive_file_size: extract.max_file_bytes,
            archive_entries: extract.max_entries,
            archive_header_size: extract.max_header_bytes,
            layer_size: crate::registry::DEFAULT_MAX_ARCHIVE_BYTES,
            list_pages: 1000,
            list_entries: 100_000,
            retries: 5,
            retry_after: 30,
            retry_total: 120,
            request_timeout: 60,
            min_transfer_rate: 256 << 10,
            chunk_size: 16 << 20,
            monolithic_max: 16 << 20,
            serve_upload_size: 8 << 30,
            serve_manifest_size: crate::registry::oci::MAX_MANIFEST_BYTES,
            serve_sessions: 1024,
            serve_connections: 512,
            serve_idle_timeout: 60,
        }
    }
}

macro_rules! spec {
    ($key:literal, $field:ident, $unit:ident, $caps:literal, $why:literal) => {
        spec!($key, $field, $unit, $caps, $why, 1)
    };
    ($key:literal, $field:ident, $unit:ident, $caps:literal, $why:literal, $min:literal) => {
        LimitSpec {
            key: $key,
            unit: Unit::$unit,
            caps: $caps,
            why: $why,
            min: $min,
            get: |l| l.$field,
            set: |l, v| l.$field = v,
        }
    };
}

/// Every configurable limit, in the order of `docs/limits.md`.
pub const LIMITS: &[LimitSpec] = &[
    spec!(
        "file-size",
        file_size,
        Bytes,
        "each pack text file read (pack.json, values.yaml, presets.yaml, schema.yaml, manifests) and each editor buffer in `spectro lsp`",
        "among 187 real pack versions the largest values.yaml is 283 KiB and the largest manifest 2.4 MiB; 16 MiB leaves room while a mistaken 2 GB file is refused from its size, before reading"
    ),
    spec!(
        "tree-entries",
        tree_entries,
        Count,
        "entries listed in a pack folder (beyond it: finding FS005, and file-existence rules skip)",
        "the largest of 187 real pack versions has 65 entries; 100 000 stops a pack that is really a home folder, and still fits packs that vendor many charts"
    ),
    spec!(
        "yaml-depth",
        yaml_depth,
        Count,
        "nesting of YAML sequences and mappings",
        "the depth serde_yaml uses; deeper input could overflow the stack of a recursive reader"
    ),
    spec!(
        "yaml-alias-nodes",
        yaml_alias_nodes,
        Count,
        "nodes copied in by YAML aliases, in total (the billion-laughs guard); a scalar counts one node more per KiB of its text",
        "real files alias a few anchors; 100 000 copies of short values stay under a few MiB of memory, and weighing text by the KiB keeps long ones under about 100 MiB"
    ),
    spec!(
        "profile-size",
        profile_size,
        Bytes,
        "each cluster profile file read (exports and YAML)",
        "exported profiles embed every pack's values (the largest real export we hold is 65 KiB); 64 MiB bounds memory for profiles with many large packs"
    ),
    spec!(
        "archive-size",
        archive_size,
        Bytes,
        "bytes extracted from one pack archive, counted on bytes decompressed (validate, push and pull of archives)",
        "packs with vendored charts and images lists reach hundreds of MiB; 4 GiB stops a gzip bomb long before a disk fills"
    ),
    spec!(
        "archive-file-size",
        archive_file_size,
        Bytes,
        "bytes of one file inside a pack archive",
        "half the archive cap: one file never needs all of it"
    ),
    spec!(
        "archive-entries",
        archive_entries,
        Count,
        "entries in one pack archive",
        "the same as tree-entries: what could be packed can be unpacked"
    ),
    spec!(
        "archive-header-size",
        archive_header_size,
        Bytes,
        "tar headers and extension records (GNU long names, PAX) read between two archive entries, which the tar reader holds in memory",
        "real ones are a few hundred bytes; a hostile one claiming gigabytes is refused after 1 MiB"
    ),
    spec!(
        "layer-size",
        layer_size,
        Bytes,
        "a pack archive downloaded from a registry, checked on the manifest's declared size before the request and on the bytes received",
        "the same as archive-size, so a pull never fetches what extraction would refuse"
    ),
    spec!(
        "list-pages",
        list_pages,
        Count,
        "pages followed in one tag list or catalog",
        "a registry answering `Link: next` forever would otherwise be followed forever"
    ),
    spec!(
        "list-entries",
        list_entries,
        Count,
        "tags or repositories accepted in one listing",
        "one pack rarely has more than a few hundred versions; 100 000 bounds memory"
    ),
    spec!(
        "retries",
        retries,
        Count,
        "retries of one idempotent request after 408, 429, 5xx or a dropped connection",
        "oras-go's default policy retries 5 times too; enough for a registry restart, not a loop",
        0
    ),
    spec!(
        "retry-after",
        retry_after,
        Seconds,
        "longest `Retry-After` honoured (longer ones are shortened to this)",
        "a registry asking for an hour should not hang a CI job"
    ),
    spec!(
        "retry-total",
        retry_total,
        Seconds,
        "time after the first attempt past which no retry starts",
        "bounds one request's retries in CI time"
    ),
    spec!(
        "request-timeout",
        request_timeout,
        Seconds,
        "time a request may wait for the answer's headers (bodies are bounded by min-transfer-rate)",
        "a registry that accepts a connection and says nothing must not hang a push"
    ),
    spec!(
        "min-transfer-rate",
        min_transfer_rate,
        BytesPerSecond,
        "slowest body transfer accepted before a transfer counts as stalled",
        "a stalled body is retried (resumed) rather than waited on; slow links can lower it"
    ),
    spec!(
        "chunk-size",
        chunk_size,
        Bytes,
        "the size of each chunk of a chunked upload (at least what a registry's `OCI-Chunk-Min-Length` asks)",
        "large enough that a 100 MiB pack takes a few requests, small enough that a resumed chunk repeats little"
    ),
    spec!(
        "monolithic-max",
        monolithic_max,
        Bytes,
        "largest archive uploaded in one PUT instead of chunks",
        "small packs go in one request; large ones in chunks that can resume"
    ),
    spec!(
        "serve-upload-size",
        serve_upload_size,
        Bytes,
        "`registry serve`: the largest blob one upload may store (answered 413 beyond)",
        "packs with charts and images are hundreds of MiB; a cap keeps one client from filling the disk in one go"
    ),
    spec!(
        "serve-manifest-size",
        serve_manifest_size,
        Bytes,
        "`registry serve`: the largest manifest accepted",
        "what distribution and oras-go accept, so anything we store they can read back"
    ),
    spec!(
        "serve-sessions",
        serve_sessions,
        Count,
        "`registry serve`: upload sessions open at once (sessions idle for an hour are dropped first)",
        "each holds a temporary file; far more than a single-node registry's concurrent pushes"
    ),
    spec!(
        "serve-connections",
        serve_connections,
        Count,
        "`registry serve`: connections served at once (more wait in the listen backlog)",
        "bounds memory and file descriptors under a flood, well above CI fan-out"
    ),
    spec!(
        "serve-idle-timeout",
        serve_idle_timeout,
        Seconds,
        "`registry serve`: how long a client may stay silent sending headers, a body or a TLS handshake",
        "slow-header and slow-body clients (slowloris) are cut off; real clients never pause this long"
    ),
];

/// Caps that are not configurable, and why.
pub const FIXED_LIMITS: &[FixedLimit] = &[
    FixedLimit {
        caps: "duplicate keys listed for one JSON or YAML document (findings PK003, YM002); the rest are counted out in one finding",
        value: "10 000, and 16 MiB of their JSON Pointers",
        why: "real files have a handful; a hostile one (a long parent key, then a million repeats of a short key) would otherwise make the list thousands of times larger than the file",
    },
    FixedLimit {
        caps: "an OCI manifest read or written (registries, layouts, `index.json`)",
        value: "4 MiB",
        why: "the limit of the CNCF distribution registry and of ORAS: a larger pack manifest could never be pushed, and ours are under 1 KiB",
    },
    FixedLimit {
        caps: "a token endpoint's answer",
        value: "128 KiB",
        why: "the limit ORAS uses; real tokens are a few KiB",
    },
    FixedLimit {
        caps: "a tag list or catalog page",
        value: "4 MiB",
        why: "a page; list-entries and list-pages bound the listing as a whole",
    },
    FixedLimit {
        caps: "an error answer's body (kept for the message)",
        value: "64 KiB",
        why: "only read to quote the registry's error code and message",
    },
    FixedLimit {
        caps: "redirects followed by one request",
        value: "5",
        why: "registries redirect blobs once (to storage); a chain is a loop",
    },
    FixedLimit {
        caps: "a docker-credential helper: run time and output",
        value: "30 s, 64 KiB",
        why: "a helper answers a lookup with one small JSON; a hung one must not hang spectro",
    },
    FixedLimit {
        caps: "`registry serve`: failed logins per client address",
        value: "5 a minute",
        why: "bcrypt is slow on purpose; a client guessing passwords is answered 429 without checking",
    },
    FixedLimit {
        caps: "`registry serve`: an htpasswd file",
        value: "1 MiB",
        why: "thousands of users fit; it is read whole at start",
    },
    FixedLimit {
        caps: "a configuration file (spectro.toml, pyproject.toml) and the registry login file",
        value: "1 MiB",
        why: "they hold a few tables; anything larger is not one of ours",
    },
];

impl Limits {
    /// The limit with `key`, if there is one.
    pub fn spec(key: &str) -> Option<&'static LimitSpec> {
        LIMITS.iter().find(|s| s.key == key)
    }

    /// Set the limit `key` from text in its unit (`64MiB`, `250000`, `2m`). Values below
    /// the limit's `min` are refused: a cap of nothing is never meant, except no retries.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let spec = Self::spec(key).ok_or_else(|| {
            let keys: Vec<&str> = LIMITS.iter().map(|s| s.key).collect();
            Error::Unsupported(format!(
                "unknown limit `{}`; limits: {}",
                crate::sanitize(key),
                keys.join(", ")
            ))
        })?;
        // Times stop at a day: a longer wait is never meant, and `Instant + Duration`
        // must not overflow.
        let v = parse_value(spec.unit, value)
            .filter(|v| *v >= spec.min)
            .filter(|v| spec.unit != Unit::Seconds || *v <= 86_400)
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "limit `{key}`: `{}` is not a {}",
                    crate::sanitize(value),
                    match spec.unit {
                        Unit::Bytes | Unit::BytesPerSecond => "size such as 64MiB or 1048576",
                        Unit::Count if spec.min == 0 => "count",
                        Unit::Count => "positive count",
                        Unit::Seconds => "duration such as 90s, 2m or 1h (at most a day)",
                    }
                ))
            })?;
        (spec.set)(self, v);
        Ok(())
    }

    /// Apply `KEY=VALUE` (as `--limit` takes it).
    pub fn set_pair(&mut self, pair: &str) -> Result<(), Error> {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            Error::Unsupported(format!(
                "`{}`: a limit is KEY=VALUE (see `spectro limits`)",
                crate::sanitize(pair)
            ))
        })?;
        self.set(k.trim(), v.trim())
    }

    /// Options for loading packs.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions::default()
            .with_max_file_size(self.file_size)
            .with_max_entries(usize::try_from(self.tree_entries).unwrap_or(usize::MAX))
            .with_yaml(self.yaml_limits())
    }

    /// YAML nesting and alias caps.
    pub fn yaml_limits(&self) -> YamlLimits {
        YamlLimits::default()
            .with_max_depth(usize::try_from(self.yaml_depth).unwrap_or(usize::MAX))
            .with_max_alias_nodes(usize::try_from(self.yaml_alias_nodes).unwrap_or(usize::MAX))
    }

    /// Set the network limits of `opts`: retries, time-outs, transfer rate, upload sizes
    /// and listing caps.
    #[cfg(feature = "remote")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
    pub fn apply_remote(&self, opts: &mut crate::registry::RemoteOptions) {
        use std::time::Duration;
        opts.retry = opts
            .retry
            .clone()
            .with_max_retries(u32::try_from(self.retries).unwrap_or(u32::MAX))
            .with_max_retry_after(Duration::from_secs(self.retry_after))
            .with_max_total(Duration::from_secs(self.retry_total));
        opts.timeout = Duration::from_secs(self.request_timeout);
        opts.min_transfer_rate = self.min_transfer_rate;
        opts.chunk_size = self.chunk_size;
        opts.monolithic_max = self.monolithic_max;
        opts.max_list_pages = usize::try_from(self.list_pages).unwrap_or(usize::MAX);
        opts.max_list_entries = usize::try_from(self.list_entries).unwrap_or(usize::MAX);
    }

    /// The registry server's caps.
    #[cfg(feature = "serve")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
    pub fn apply_serve(&self, opts: &mut crate::server::ServeOptions) {
        opts.max_upload = self.serve_upload_size;
        opts.max_manifest = self.serve_manifest_size;
        opts.max_sessions = usize::try_from(self.serve_sessions).unwrap_or(usize::MAX);
        opts.max_connections = usize::try_from(self.serve_connections).unwrap_or(usize::MAX);
        opts.idle_timeout = std::time::Duration::from_secs(self.serve_idle_timeout);
    }

    /// Caps for extracting archives.
    pub fn extract_limits(&self) -> ExtractLimits {
        ExtractLimits::default()
            .with_max_total_bytes(self.archive_size)
            .with_max_file_bytes(self.archive_file_size)
            .with_max_entries(self.archive_entries)
            .with_max_header_bytes(self.archive_header_size)
    }
}

fn parse_value(unit: Unit, text: &str) -> Option<u64> {
    let t = text.trim().replace('_', "");
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match (unit, suffix.trim().to_ascii_lowercase().as_str()) {
        (_, "") => 1,
        (Unit::Bytes | Unit::BytesPerSecond, "b") => 1,
        (Unit::Bytes | Unit::BytesPerSecond, "k" | "kb" | "kib") => 1 << 10,
        (Unit::Bytes | Unit::BytesPerSecond, "m" | "mb" | "mib") => 1 << 20,
        (Unit::Bytes | Unit::BytesPerSecond, "g" | "gb" | "gib") => 1 << 30,
        (Unit::Seconds, "s") => 1,
        (Unit::Seconds, "m" | "min") => 60,
        (Unit::Seconds, "h") => 3600,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `docs/limits.md`'s tables, generated from [`LIMITS`] and [`FIXED_LIMITS`] (a test keeps
/// the file in step).
pub fn markdown() -> String {
    let mut out = String::from("| key | default | caps | why this default |\n|---|---|---|---|\n");
    for s in LIMITS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            s.key,
            s.display(s.default_value()),
            s.caps,
            s.why
        ));
    }
    out.push_str("\nFixed caps (not configurable):\n\n| caps | value | why it does not move |\n|---|---|---|\n");
    for f in FIXED_LIMITS {
        out.push_str(&format!("| {} | {} | {} |\n", f.caps, f.value, f.why));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_in_their_units_and_zero_or_junk_is_refused() {
        let mut l = Limits::default();
        l.set("file-size", "64MiB").unwrap();
        assert_eq!(l.file_size, 64 << 20);
        l.set_pair("retry-total = 2m").unwrap();
        assert_eq!(l.retry_total, 120);
        l.set("list-entries", "250_000").unwrap();
        assert_eq!(l.list_entries, 250_000);
        for bad in ["0", "-1", "12XB", "", "99999999999999999999GiB", "1.5MiB"] {
            assert!(l.set("file-size", bad).is_err(), "{bad}");
        }
        assert!(l.set("retries", "3s").is_err());
        assert!(l.set("retry-after", "25h").is_err());
        l.set("retry-after", "24h").unwrap();
        l.set("retries", "0").unwrap();
        assert_eq!(l.retries, 0);
        let e = l.set("file-sise", "1").unwrap_err().to_string();
        assert!(e.contains("file-size"), "{e}");
        assert!(l.set_pair("file-size").is_err());
    }

    #[test]
    fn every_key_is_unique_round_trips_and_its_default_is_what_the_options_use() {
        let mut keys: Vec<&str> = LIMITS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), LIMITS.len());
        let d = Limits::default();
        assert_eq!(
            d.load_options().max_file_size,
            LoadOptions::default().max_file_size
        );
        assert_eq!(d.extract_limits(), ExtractLimits::default());
        for s in LIMITS {
            let mut l = Limits::default();
            (s.set)(&mut l, 7);
            assert_eq!(s.get(&l), 7, "{}", s.key);
            assert_ne!(l, d, "{} sets nothing", s.key);
        }
    }
}
