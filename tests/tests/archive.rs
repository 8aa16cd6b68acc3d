//! Pack archives: reproducible builds, round trips over real packs, and every hostile
#![allow(clippy::print_stderr)] // skip messages
//! archive of reliability.md items 1-21 and 30-33 built in code. Each hostile case checks
//! the error and that nothing was written outside or left behind.

use std::fs;
use std::path::{Path, PathBuf};

use spectro_packs::Error;
use spectro_packs::archive::{
    ArchiveProblem, BuildOptions, ExtractLimits, ExtractOptions, build_archive, extract_archive,
};
use spectro_tests::{corpus, fixtures, gzip};

// ---------- raw tar writer (so we can write what tar-rs refuses to) ----------

fn header(name: &[u8], typ: u8, size: u64, mode: u32, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typ;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

#[derive(Default)]
struct RawTar(Vec<u8>);

impl RawTar {
    fn entry(self, name: &str, typ: u8, data: &[u8]) -> Self {
        self.raw(name.as_bytes(), typ, data.len() as u64, 0o644, b"", data)
    }
    fn dir(self, name: &str) -> Self {
        self.entry(name, b'5', b"")
    }
    fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(name, b'0', data)
    }
    fn link(mut self, name: &str, typ: u8, target: &str) -> Self {
        let t = target.as_bytes().to_vec();
        self = self.raw(name.as_bytes(), typ, 0, 0o777, &t, b"");
        self
    }
    fn raw(mut self, name: &[u8], typ: u8, size: u64, mode: u32, link: &[u8], data: &[u8]) -> Self {
        self.0
            .extend_from_slice(&header(name, typ, size, mode, link));
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0, pad));
        self
    }
    fn pack(self) -> Self {
        self.dir("p/")
            .file("p/pack.json", br#"{"name":"p","version":"1.0.0"}"#)
    }
    fn finish(mut self) -> Vec<u8> {
        self.0.extend([0u8; 1024]);
        self.0
    }
    fn gz(self) -> Vec<u8> {
        gzip(&self.finish())
    }
}

/// A sandbox: `base/` holds the archive file and `base/dest/` is the destination.
struct Sandbox {
    base: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let s = Sandbox {
            base: tempfile::tempdir().unwrap(),
        };
        fs::create_dir(s.dest()).unwrap();
        s
    }
    fn dest(&self) -> PathBuf {
        self.base.path().join("dest")
    }
    fn extract_bytes(
        &self,
        bytes: &[u8],
        opts: &ExtractOptions,
    ) -> Result<spectro_packs::archive::Extracted, Error> {
        let a = self.base.path().join("a.tar.gz");
        fs::write(&a, bytes).unwrap();
        extract_archive(&a, self.dest(), opts)
    }
    /// Nothing written outside `dest`, nothing left inside it.
    fn assert_clean(&self) {
        let mut outside: Vec<_> = fs::read_dir(self.base.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        outside.sort();
        assert_eq!(
            outside,
            vec!["a.tar.gz", "dest"],
            "something was written outside dest"
        );
        let inside: Vec<_> = fs::read_dir(self.dest())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(inside.is_empty(), "left behind in dest: {inside:?}");
    }
}

fn problem(r: Result<spectro_packs::archive::Extracted, Error>) -> ArchiveProblem {
    match r {
        Err(Error::Archive { problem, .. }) => problem,
        other => panic!("expected an archive error, got {other:?}"),
    }
}

fn hostile(bytes: Vec<u8>, expect: impl Fn(&ArchiveProblem) -> bool) {
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(&bytes, &ExtractOptions::default()));
    assert!(expect(&p), "unexpected problem: {p:?}");
    s.assert_clean();
}

// ---------- hostile archives ----------

#[test]
fn item01_dot_dot_entries_are_rejected() {
    for name in ["p/../../etc/passwd", "./../x", "p/a/../../../x"] {
        hostile(RawTar::default().pack().file(name, b"x").gz(), |p| {
            *p == ArchiveProblem::PathEscape
        });
    }
}

#[test]
fn item02_absolute_and_drive_paths_are_rejected() {
    for name in [
        "/etc/cron.d/x",
        "//foo",
        "C:\\x",
        "\\\\?\\x",
        "/./c://foo",
        "c:x",
    ] {
        hostile(RawTar::default().pack().file(name, b"x").gz(), |p| {
            *p == ArchiveProblem::PathEscape
        });
    }
}

#[test]
fn item03_backslash_traversal_is_rejected() {
    hostile(
        RawTar::default().pack().file("p\\..\\..\\x", b"x").gz(),
        |p| *p == ArchiveProblem::PathEscape,
    );
}

#[test]
fn item04_to_07_symlink_entries_are_rejected() {
    let cases = [
        RawTar::default()
            .pack()
            .link("p/link", b'2', "/")
            .file("p/link/evil", b"x"),
        RawTar::default()
            .pack()
            .link("p/x", b'2', "../../x")
            .file("p/x", b"x"),
        RawTar::default()
            .pack()
            .link("p/a", b'2', "b")
            .link("p/b", b'2', "../.."),
        RawTar::default()
            .pack()
            .link("p/d", b'2', "/tmp")
            .dir("p/d/"),
    ];
    for c in cases {
        hostile(c.gz(), |p| {
            *p == ArchiveProblem::ForbiddenEntry("symbolic link")
        });
    }
}

#[test]
fn item08_hardlinks_are_rejected() {
    for target in ["/etc/shadow", "../../x", "p/pack.json"] {
        hostile(
            RawTar::default().pack().link("p/h", b'1', target).gz(),
            |p| *p == ArchiveProblem::ForbiddenEntry("hard link"),
        );
    }
}

#[test]
fn item09_devices_and_fifos_are_rejected() {
    for (typ, what) in [
        (b'3', "character device"),
        (b'4', "block device"),
        (b'6', "FIFO"),
    ] {
        hostile(
            RawTar::default().pack().entry("p/dev", typ, b"").gz(),
            |p| *p == ArchiveProblem::ForbiddenEntry(what),
        );
    }
}

#[cfg(unix)]
#[test]
fn item10_special_modes_are_normalised() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    let t = RawTar::default()
        .pack()
        .raw(b"p/suid", b'0', 1, 0o4777, b"", b"x")
        .raw(b"p/none", b'0', 1, 0o000, b"", b"y")
        .raw(b"p/exec", b'0', 1, 0o2755, b"", b"z");
    let x = s
        .extract_bytes(&t.gz(), &ExtractOptions::default())
        .unwrap();
    let mode = |n: &str| fs::metadata(x.root.join(n)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("suid"), 0o755);
    assert_eq!(mode("none"), 0o644);
    assert_eq!(mode("exec"), 0o755);
    assert_eq!(mode("pack.json"), 0o644);
}

fn small_limits() -> ExtractOptions {
    let mut o = ExtractOptions::default();
    o.limits = ExtractLimits::default();
    o.limits.max_file_bytes = 1 << 20;
    o.limits.max_total_bytes = 4 << 20;
    o.limits.max_entries = 100;
    o
}

#[test]
fn item11_gzip_bomb_stops_at_the_cap() {
    let zeros = vec![0u8; 64 << 20];
    let bytes = RawTar::default().pack().file("p/bomb", &zeros).gz();
    assert!(
        bytes.len() < 1_000_000,
        "bomb should compress well: {}",
        bytes.len()
    );
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(&bytes, &small_limits()));
    assert!(
        matches!(
            p,
            ArchiveProblem::Limit {
                what: "per-file size",
                ..
            }
        ),
        "{p:?}"
    );
    s.assert_clean();
    // Many files each under the per-file cap, together over the total cap.
    let chunk = vec![7u8; 900 << 10];
    let mut t = RawTar::default().pack();
    for i in 0..8 {
        t = t.file(&format!("p/f{i}"), &chunk);
    }
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(&t.gz(), &small_limits()));
    assert!(
        matches!(
            p,
            ArchiveProblem::Limit {
                what: "total size",
                ..
            }
        ),
        "{p:?}"
    );
    s.assert_clean();
}

#[test]
fn item12_lying_sizes_are_caught_on_real_bytes() {
    // Header claims 5 MiB and the data is there: the per-file cap counts bytes read.
    let data = vec![1u8; 5 << 20];
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(
        &RawTar::default().pack().file("p/big", &data).gz(),
        &small_limits(),
    ));
    assert!(matches!(p, ArchiveProblem::Limit { .. }), "{p:?}");
    s.assert_clean();
    // Header claims more than the stream holds: truncated.
    let mut t = RawTar::default().pack();
    t.0.extend_from_slice(&header(b"p/short", b'0', 10_000, 0o644, b""));
    t.0.extend_from_slice(&[1u8; 512]);
    hostile(gzip(&t.0), |p| matches!(p, ArchiveProblem::Corrupt(_)));
}

/// A PAX record `size=N`: the size that overrides the next entry's header (how GNU tar
/// and bsdtar read it), so every reader agrees on where the data ends.
fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        let body = format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while format!("{len}{body}").len() != len {
            len += 1;
        }
        out.extend_from_slice(format!("{len}{body}").as_bytes());
    }
    out
}

#[test]
fn item12_a_pax_size_overrides_the_header_and_is_counted_on_bytes_read() {
    // The ustar header says 1 byte, the PAX record 5000: 5000 bytes are the file.
    let mut t = RawTar::default().pack();
    t = t.entry("p/PaxHeaders/f", b'x', &pax(&[("size", "5000")]));
    t.0.extend_from_slice(&header(b"p/f", b'0', 1, 0o644, b""));
    t.0.extend_from_slice(&[7u8; 5000]);
    t.0.extend(std::iter::repeat_n(0u8, 512 - 5000 % 512));
    let bytes = t.gz();
    let s = Sandbox::new();
    let out = s.extract_bytes(&bytes, &ExtractOptions::default()).unwrap();
    assert_eq!(fs::read(out.root.join("f")).unwrap(), vec![7u8; 5000]);
    // Under a 4 KiB per-file cap the same archive is refused, and nothing is left.
    let s = Sandbox::new();
    let mut o = small_limits();
    o.limits.max_file_bytes = 4096;
    let p = problem(s.extract_bytes(&bytes, &o));
    assert_eq!(
        p,
        ArchiveProblem::Limit {
            what: "per-file size",
            limit: 4096
        }
    );
    s.assert_clean();
}

#[test]
fn long_name_and_pax_records_are_capped_before_they_are_read_whole() {
    // tar readers load GNU long names and PAX records into memory: one claiming 64 MiB (a
    // few KiB of gzip) is refused at 1 MiB, whatever the file caps are.
    for typ in [b'L', b'K', b'x'] {
        let mut t = RawTar::default().pack();
        let claimed = 64u64 << 20;
        t.0.extend_from_slice(&header(b"././@LongLink", typ, claimed, 0o644, b""));
        t.0.extend(std::iter::repeat_n(b'a', claimed as usize));
        t = t.file("p/x", b"x");
        let p = problem(Sandbox::new().extract_bytes(&t.gz(), &ExtractOptions::default()));
        assert_eq!(
            p,
            ArchiveProblem::Limit {
                what: "tar header and extension size",
                limit: 1 << 20
            },
            "type {}",
            typ as char
        );
    }
    // A directory entry claiming data has it counted under the per-file cap.
    let mut t = RawTar::default().pack();
    t.0.extend_from_slice(&header(b"p/d/", b'5', 2 << 20, 0o755, b""));
    t.0.extend(std::iter::repeat_n(0u8, 2 << 20));
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(&t.gz(), &small_limits()));
    assert!(
        matches!(
            p,
            ArchiveProblem::Limit {
                what: "per-file size",
                ..
            }
        ),
        "{p:?}"
    );
    s.assert_clean();
    // Real long names (GNU and PAX) still extract.
    let long = format!("p/{}/values.txt", "d".repeat(200));
    let mut name = long.clone().into_bytes();
    name.push(0);
    let gnu = RawTar::default()
        .pack()
        .entry("././@LongLink", b'L', &name)
        .file(&long[..99], b"gnu");
    let s = Sandbox::new();
    let out = s
        .extract_bytes(&gnu.gz(), &ExtractOptions::default())
        .unwrap();
    assert_eq!(fs::read(out.root.join(&long[2..])).unwrap(), b"gnu");
    let posix = RawTar::default()
        .pack()
        .entry("p/PaxHeaders/x", b'x', &pax(&[("path", &long)]))
        .file("p/short", b"pax");
    let s = Sandbox::new();
    let out = s
        .extract_bytes(&posix.gz(), &ExtractOptions::default())
        .unwrap();
    assert_eq!(fs::read(out.root.join(&long[2..])).unwrap(), b"pax");
}

#[test]
fn item13_entry_count_is_capped() {
    let mut t = RawTar::default().pack();
    for i in 0..200 {
        t = t.dir(&format!("p/d{i}/"));
    }
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(&t.gz(), &small_limits()));
    assert_eq!(
        p,
        ArchiveProblem::Limit {
            what: "entry count",
            limit: 100
        }
    );
    s.assert_clean();
}

#[test]
fn item14_duplicate_names_are_rejected() {
    hostile(
        RawTar::default()
            .pack()
            .file("p/values.yaml", b"a: 1")
            .file("p/./values.yaml", b"a: 2")
            .gz(),
        |p| *p == ArchiveProblem::DuplicateEntry,
    );
}

#[test]
fn item15_trailing_data_and_second_members_are_rejected() {
    let mut two = RawTar::default().pack().gz();
    two.extend(gzip(b"second member"));
    hostile(two, |p| *p == ArchiveProblem::TrailingData);
    let mut garbage = RawTar::default().pack().gz();
    garbage.extend_from_slice(b"garbage after the stream");
    hostile(garbage, |p| *p == ArchiveProblem::TrailingData);
    // Non-zero bytes after the tar end blocks inside the gzip stream.
    let mut inner = RawTar::default().pack().finish();
    inner.extend_from_slice(b"junk");
    hostile(gzip(&inner), |p| *p == ArchiveProblem::TrailingData);
}

#[test]
fn item16_not_gzip_truncated_and_bad_crc() {
    hostile(b"pack:\n  namespace: x\n".to_vec(), |p| {
        *p == ArchiveProblem::NotGzip
    });
    hostile(Vec::new(), |p| *p == ArchiveProblem::NotGzip);
    let good = RawTar::default()
        .pack()
        .file("p/values.yaml", &[b'a'; 10_000])
        .gz();
    hostile(good[..good.len() / 2].to_vec(), |p| {
        matches!(p, ArchiveProblem::Corrupt(_))
    });
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    hostile(bad_crc, |p| matches!(p, ArchiveProblem::Corrupt(_)));
}

#[test]
fn item17_layout_must_be_one_top_dir_with_pack_json() {
    hostile(RawTar::default().file("pack.json", b"{}").gz(), |p| {
        *p == ArchiveProblem::NotOneTopDir
    });
    hostile(
        RawTar::default().pack().dir("q/").file("q/x", b"").gz(),
        |p| *p == ArchiveProblem::NotOneTopDir,
    );
    hostile(
        RawTar::default().dir("p/").file("p/values.yaml", b"").gz(),
        |p| *p == ArchiveProblem::NoPackJson,
    );
    hostile(
        RawTar::default()
            .dir("p/")
            .file("p/sub/pack.json", b"")
            .gz(),
        |p| *p == ArchiveProblem::NoPackJson,
    );
    hostile(RawTar::default().gz(), |p| *p == ArchiveProblem::Empty);
}

#[test]
fn item18_dot_names_cannot_become_directories() {
    hostile(
        RawTar::default().dir("./").file("./pack.json", b"{}").gz(),
        |p| matches!(p, ArchiveProblem::NotOneTopDir | ArchiveProblem::BadName),
    );
    hostile(
        RawTar::default()
            .dir("../")
            .file("../pack.json", b"{}")
            .gz(),
        |p| *p == ArchiveProblem::PathEscape,
    );
    // And build refuses a pack whose name would be a path.
    for name in [".", "..", "a/b"] {
        let t = tempfile::tempdir().unwrap();
        fs::write(
            t.path().join("pack.json"),
            format!(r#"{{"name":"{name}","displayName":"x","version":"1.0.0","layer":"os"}}"#),
        )
        .unwrap();
        fs::write(t.path().join("values.yaml"), "").unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut o = BuildOptions::default();
        o.validate = false;
        let err = build_archive(t.path(), out.path(), &o).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Archive {
                    problem: ArchiveProblem::NoIdentity,
                    ..
                }
            ),
            "{name}: {err}"
        );
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    }
}

#[cfg(unix)]
#[test]
fn item19_existing_destination_is_kept_unless_overwrite() {
    let s = Sandbox::new();
    fs::create_dir(s.dest().join("p")).unwrap();
    fs::write(s.dest().join("p/keep"), "mine").unwrap();
    let bytes = RawTar::default().pack().gz();
    let p = problem(s.extract_bytes(&bytes, &ExtractOptions::default()));
    assert_eq!(p, ArchiveProblem::DestinationExists);
    assert_eq!(fs::read_to_string(s.dest().join("p/keep")).unwrap(), "mine");
    let mut o = ExtractOptions::default();
    o.overwrite = true;
    let x = s.extract_bytes(&bytes, &o).unwrap();
    assert!(x.root.join("pack.json").is_file() && !x.root.join("keep").exists());
    let left: Vec<_> = fs::read_dir(s.dest())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec!["p"]);
    // A symlink where the pack goes is replaced, never written through.
    let s = Sandbox::new();
    let victim = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(victim.path(), s.dest().join("p")).unwrap();
    let x = s.extract_bytes(&bytes, &o).unwrap();
    assert!(
        !fs::symlink_metadata(&x.root)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_dir(victim.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn item21_interrupted_runs_are_swept() {
    let s = Sandbox::new();
    let stale = s.dest().join(".spectro-extract-killed");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("half"), "x").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    fs::File::open(&stale).unwrap().set_modified(old).unwrap();
    let fresh = s.dest().join(".spectro-extract-running");
    fs::create_dir(&fresh).unwrap();
    s.extract_bytes(&RawTar::default().pack().gz(), &ExtractOptions::default())
        .unwrap();
    assert!(!stale.exists(), "stale staging dir must be removed");
    assert!(
        fresh.exists(),
        "a recent one may belong to a running extraction"
    );
}

#[test]
fn item30_huge_file_in_archive_hits_per_file_cap() {
    let data = vec![0u8; 3 << 20];
    hostile_with(
        RawTar::default().pack().file("p/logo.png", &data).gz(),
        small_limits(),
        |p| {
            matches!(
                p,
                ArchiveProblem::Limit {
                    what: "per-file size",
                    ..
                }
            )
        },
    );
}

fn hostile_with(bytes: Vec<u8>, opts: ExtractOptions, expect: impl Fn(&ArchiveProblem) -> bool) {
    let s = Sandbox::new();
    let p = problem(s.extract_bytes(&bytes, &opts));
    assert!(expect(&p), "{p:?}");
    s.assert_clean();
}

fn copy_tree(from: &Path, to: &Path) {
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            fs::create_dir_all(&dst).unwrap();
            copy_tree(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn item31_build_refuses_symlinks_and_never_inlines_them() {
    let t = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("packs/valid/hello-universe"), t.path());
    let secret = tempfile::NamedTempFile::new().unwrap();
    fs::write(secret.path(), "TOP SECRET").unwrap();
    std::os::unix::fs::symlink(secret.path(), t.path().join("id_rsa")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut o = BuildOptions::default();
    o.validate = false;
    let err = build_archive(t.path(), out.path(), &o).unwrap_err();
    assert!(
        matches!(&err, Error::Archive { problem: ArchiveProblem::Symlink, entry: Some(e), .. } if e == "id_rsa"),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        0,
        "no partial archive"
    );
    // .spectroignore can leave it out instead.
    fs::write(t.path().join(".spectroignore"), "id_rsa\n*.bak\n").unwrap();
    fs::write(t.path().join("old.bak"), "x").unwrap();
    let built = build_archive(t.path(), out.path(), &o).unwrap();
    let s = Sandbox::new();
    let x = extract_archive(&built.path, s.dest(), &ExtractOptions::default()).unwrap();
    assert!(
        !x.root.join("id_rsa").exists()
            && !x.root.join("old.bak").exists()
            && !x.root.join(".spectroignore").exists()
    );
}

#[cfg(unix)]
#[test]
fn item32_output_symlink_is_refused_not_followed_or_replaced() {
    // Issue 12 item 28: `-o` naming a symlink, FIFO or device is refused before any
    // work; neither the link nor what it points at changes.
    let out = tempfile::tempdir().unwrap();
    let victim = tempfile::NamedTempFile::new().unwrap();
    fs::write(victim.path(), "precious").unwrap();
    let target = out.path().join("pack.tar.gz");
    std::os::unix::fs::symlink(victim.path(), &target).unwrap();
    let err = build_archive(
        fixtures().join("packs/valid/hello-universe"),
        &target,
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err}");
    assert_eq!(fs::read_to_string(victim.path()).unwrap(), "precious");
    assert!(
        fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let fifo = out.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = build_archive(
        fixtures().join("packs/valid/hello-universe"),
        &fifo,
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err}");
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &fs::symlink_metadata(&fifo).unwrap().file_type()
    ));
    // /dev/null (a device) is refused too, without touching it.
    let err = build_archive(
        fixtures().join("packs/valid/hello-universe"),
        "/dev/null",
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotRegularFile { .. }), "{err}");
    // Nothing was left beside the targets.
    let left: Vec<_> = fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn item33_non_utf8_names_are_rejected() {
    let t = RawTar::default()
        .pack()
        .raw(b"p/\xff\xfe.yaml", b'0', 1, 0o644, b"", b"x");
    hostile(t.gz(), |p| *p == ArchiveProblem::BadName);
}

// ---------- determinism and round trips ----------

fn build_with_threads(
    dir: &Path,
    out: &Path,
    threads: usize,
) -> spectro_packs::archive::BuiltArchive {
    let pool = rayon_pool(threads);
    let mut o = BuildOptions::default();
    o.validate = false;
    pool.install(|| build_archive(dir, out, &o).unwrap())
}

fn rayon_pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
}

#[test]
fn rebuild_after_touch_and_other_thread_count_is_byte_identical() {
    let t = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("packs/valid/hello-universe"), t.path());
    // Make the pack bigger than one gzip block so parallelism matters.
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::create_dir_all(t.path().join("charts")).unwrap();
    fs::write(t.path().join("charts/blob.bin"), &big).unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = build_with_threads(t.path(), a.path(), 1);
    // Touch every file (new mtimes) and rebuild on 4 threads.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    for e in walk(t.path()) {
        if e.is_file() {
            fs::File::options()
                .write(true)
                .open(&e)
                .unwrap()
                .set_modified(later)
                .unwrap();
        }
    }
    let second = build_with_threads(t.path(), b.path(), 4);
    assert_eq!(first.digest, second.digest);
    assert_eq!(
        fs::read(&first.path).unwrap(),
        fs::read(&second.path).unwrap()
    );
    assert_eq!(
        first.path.file_name().unwrap(),
        "hello-universe-1.3.1.tar.gz"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out.sort();
    out
}

fn tree(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let data = p.is_file().then(|| fs::read(&p).unwrap());
            (rel, data)
        })
        .collect()
}

#[test]
fn round_trip_reproduces_the_tree() {
    let mut dirs = vec![
        fixtures().join("packs/valid/hello-universe"),
        fixtures().join("packs/valid/ubuntu-os"),
    ];
    match corpus() {
        Some(c) => {
            for p in [
                "hello-universe/1.3.1",
                "argo-cd/3.3.5",
                "kubeflow-full/1.5",
                "csi-dell-csm-operator/1.11.2",
                "gridlight/1.1.3",
            ] {
                dirs.push(c.join(p));
            }
        }
        None => eprintln!("SKIP: corpus not found; round trip over fixtures only"),
    }
    for dir in dirs {
        let out = tempfile::tempdir().unwrap();
        let built = build_with_threads(&dir, out.path(), 2);
        let s = tempfile::tempdir().unwrap();
        let x = extract_archive(&built.path, s.path(), &ExtractOptions::default()).unwrap();
        assert_eq!(tree(&dir), tree(&x.root), "{}", dir.display());
    }
}

#[test]
fn validate_accepts_archives() {
    let out = tempfile::tempdir().unwrap();
    let mut o = BuildOptions::default();
    o.validate = false;
    let built = build_archive(
        fixtures().join("packs/invalid/VL004-image-entry-without-image"),
        out.path(),
        &o,
    )
    .unwrap();
    let r = spectro_packs::validate_pack(&built.path).unwrap();
    assert_eq!(r.path, built.path);
    assert_eq!(r.archive_root.as_deref(), Some("hello-universe"));
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(
        (r.diagnostics[0].code, r.diagnostics[0].file.as_str()),
        ("VL004", "values.yaml")
    );
}

#[test]
fn pack_json_comes_first_and_identity_is_read_without_extracting() {
    let out = tempfile::tempdir().unwrap();
    let built = build_archive(
        fixtures().join("packs/valid/nginx-chart"),
        out.path(),
        &BuildOptions::default(),
    )
    .unwrap();
    let gz = flate2::read::GzDecoder::new(fs::File::open(&built.path).unwrap());
    let names: Vec<String> = tar::Archive::new(gz)
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names[1], "nginx/pack.json", "{names:?}");
    let mut rest = names[2..].to_vec();
    rest.sort();
    assert_eq!(rest, names[2..], "the rest stays sorted");
    assert_eq!(
        spectro_packs::archive::read_identity(&built.path).unwrap(),
        ("nginx".to_owned(), "1.11.2".to_owned())
    );
    // A tar czf archive (pack.json anywhere) and one without pack.json.
    let named = tempfile::tempdir().unwrap();
    fs::create_dir_all(named.path().join("nginx")).unwrap();
    copy_tree(
        &fixtures().join("packs/valid/nginx-chart"),
        &named.path().join("nginx"),
    );
    let tgz = out.path().join("plain.tar.gz");
    let status = std::process::Command::new("tar")
        .args(["czf"])
        .arg(&tgz)
        .arg("-C")
        .arg(named.path())
        .arg("nginx")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        spectro_packs::archive::read_identity(&tgz).unwrap().0,
        "nginx"
    );
    // Issue 12 item 1: the top folder must be the pack's name.
    let misnamed = out.path().join("misnamed.tar.gz");
    let status = std::process::Command::new("tar")
        .args(["czf"])
        .arg(&misnamed)
        .arg("-C")
        .arg(fixtures().join("packs/valid"))
        .arg("nginx-chart")
        .status()
        .unwrap();
    assert!(status.success());
    assert!(matches!(
        spectro_packs::archive::read_identity(&misnamed),
        Err(Error::Archive {
            problem: ArchiveProblem::TopDirMismatch { .. },
            ..
        })
    ));
    let none = out.path().join("none.tar.gz");
    fs::write(&none, gzip(&[0u8; 1024])).unwrap();
    assert!(matches!(
        spectro_packs::archive::read_identity(&none),
        Err(Error::Archive {
            problem: ArchiveProblem::NoIdentity,
            ..
        })
    ));
}

#[test]
fn an_entry_under_a_file_is_the_archives_fault_not_the_disks() {
    // `p/pack.json` is a file, then `p/pack.json/x` needs it to be a folder: the archive
    // is inconsistent (an archive error naming the entry), not a local I/O failure.
    let bytes = RawTar::default().pack().file("p/pack.json/x", b"x").gz();
    let s = Sandbox::new();
    match s.extract_bytes(&bytes, &ExtractOptions::default()) {
        Err(Error::Archive { entry, problem, .. }) => {
            assert_eq!(entry.as_deref(), Some("p/pack.json/x"));
            assert!(matches!(problem, ArchiveProblem::Corrupt(_)), "{problem:?}");
        }
        other => panic!("expected an archive error, got {other:?}"),
    }
    s.assert_clean();
}
