//! Malformed and hostile inputs give a clear finding or error and never hang or crash.

use std::fs;
use std::path::Path;

use spectro_packs::{Diagnostic, validate_pack};

fn pack_with(dir: &Path, pack_json: &[u8], values: &[u8]) {
    fs::write(dir.join("pack.json"), pack_json).unwrap();
    fs::write(dir.join("values.yaml"), values).unwrap();
}

const GOOD_JSON: &[u8] =
    br#"{"name": "x", "displayName": "X", "version": "1.0.0", "layer": "os", "cloudTypes": ["all"]}"#;

fn codes(d: &[Diagnostic]) -> Vec<&'static str> {
    d.iter().map(|d| d.code).collect()
}

#[test]
fn truncated_json_is_located() {
    let t = tempfile::tempdir().unwrap();
    pack_with(t.path(), br#"{"name": "x", "displayName": "X", "vers"#, b"");
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "PK002")
        .expect("PK002");
    assert_eq!(d.line.map(|l| l.get()), Some(1));
    assert!(d.message.contains("end of file"), "{}", d.message);
}

#[test]
fn json_nested_100k_deep_is_refused_without_stack_overflow() {
    let t = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    pack_with(t.path(), deep.as_bytes(), b"");
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "PK002")
        .expect("PK002");
    assert!(
        ["recursion", "depth", "deeper"]
            .iter()
            .any(|w| d.message.contains(w)),
        "{}",
        d.message
    );
}

#[test]
fn yaml_nested_100k_deep_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    pack_with(t.path(), GOOD_JSON, deep.as_bytes());
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "YM001")
        .expect("YM001");
    assert!(
        ["recursion", "depth", "deeper"]
            .iter()
            .any(|w| d.message.contains(w)),
        "{}",
        d.message
    );
    // Block-style nesting too.
    let mut block = String::new();
    for i in 0..5_000 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    pack_with(t.path(), GOOD_JSON, block.as_bytes());
    let r = validate_pack(t.path()).unwrap();
    assert!(codes(&r.diagnostics).contains(&"YM001"));
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let mut bomb = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*l{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    pack_with(t.path(), GOOD_JSON, bomb.as_bytes());
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "YM001")
        .expect("YM001");
    assert!(d.message.contains("billion-laughs"), "{}", d.message);

    pack_with(t.path(), GOOD_JSON, b"a: &a [*a]\n");
    let r = validate_pack(t.path()).unwrap();
    assert!(codes(&r.diagnostics).contains(&"YM001"));
}

#[test]
fn binary_garbage_is_reported_not_parsed() {
    let t = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    pack_with(t.path(), &garbage, &garbage);
    let r = validate_pack(t.path()).unwrap();
    let c = codes(&r.diagnostics);
    assert!(c.iter().filter(|c| **c == "FS003").count() == 2, "{c:?}");
    // Valid UTF-8 but not JSON/YAML: control characters.
    pack_with(t.path(), b"\x01\x02\x03", b"\x01\x02: [\x03");
    let r = validate_pack(t.path()).unwrap();
    let c = codes(&r.diagnostics);
    assert!(c.contains(&"PK002") && c.contains(&"YM001"), "{c:?}");
}

#[test]
fn fifty_megabyte_values_is_refused_before_reading() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("pack.json"), GOOD_JSON).unwrap();
    let f = fs::File::create(t.path().join("values.yaml")).unwrap();
    f.set_len(50 * 1000 * 1000).unwrap();
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "FS002")
        .expect("FS002");
    assert!(d.message.contains("50000000 bytes"), "{}", d.message);
}

#[cfg(unix)]
#[test]
fn symlinked_values_outside_the_pack_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("id_rsa");
    fs::write(&secret, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("pack.json"), GOOD_JSON).unwrap();
    std::os::unix::fs::symlink(&secret, t.path().join("values.yaml")).unwrap();
    let pack = spectro_packs::load_pack(t.path()).unwrap();
    assert!(
        pack.values.text.is_empty(),
        "the link target must not be read"
    );
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "FS001")
        .expect("FS001");
    assert_eq!(d.file, "values.yaml");
    assert!(!r.diagnostics.iter().any(|d| d.message.contains("OPENSSH")));
}

#[test]
fn not_a_directory_and_missing_paths_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("file");
    fs::write(&f, "x").unwrap();
    assert!(matches!(
        validate_pack(&f),
        Err(spectro_packs::Error::NotADirectory { .. })
    ));
    assert!(matches!(
        validate_pack(t.path().join("nope")),
        Err(spectro_packs::Error::NotFound { .. })
    ));
}

#[test]
fn control_characters_in_fields_are_escaped_in_messages() {
    let t = tempfile::tempdir().unwrap();
    pack_with(t.path(), b"{\"name\": \"bad\\u001b[31mname\", \"displayName\": \"X\", \"version\": \"1.0.0\", \"layer\": \"os\"}", b"");
    let r = validate_pack(t.path()).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "PK013")
        .expect("PK013");
    assert!(!d.message.contains('\u{1b}'), "{:?}", d.message);
}
