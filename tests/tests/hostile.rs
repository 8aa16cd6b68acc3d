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

#[test]
fn null_and_wrongly_typed_fields_are_findings_not_panics() {
    let t = tempfile::tempdir().unwrap();
    pack_with(
        t.path(),
        br#"{"name": "x", "displayName": null, "version": 1, "layer": "os", "cloudTypes": [null], "constraints": {"dependencies": [null, {"packName": 7}]}}"#,
        b"pack: null\n",
    );
    // Loading alone never panics on the typed model.
    spectro_packs::load_pack(t.path()).unwrap();
    let r = validate_pack(t.path()).unwrap();
    let at = |ptr: &str| {
        r.diagnostics
            .iter()
            .any(|d| d.file == "pack.json" && d.pointer == ptr && d.code == "PK005")
    };
    for ptr in ["/displayName", "/version", "/cloudTypes/0"] {
        assert!(at(ptr), "no PK005 at {ptr}: {:?}", r.diagnostics);
    }
    // A profile whose packs are null is a shape finding, not a crash.
    let profile = t.path().join("profile.json");
    fs::write(
        &profile,
        r#"{"metadata": {"name": null}, "spec": {"template": {"type": "cluster", "packs": [null, 3]}}}"#,
    )
    .unwrap();
    let r = spectro_packs::validate_profile(&profile, &Default::default()).unwrap();
    assert!(
        r.diagnostics.iter().any(|d| d.code == "PF002"),
        "{:?}",
        r.diagnostics
    );
}

#[test]
fn pathological_patterns_in_schema_formats_are_bounded() {
    use spectro_packs::values_schema::parse_constraint;
    let constraint = |format: &str| parse_constraint(&format!("{{{{ format \"{format}\" }}}}"));
    // Nested quantifiers: the regex crate runs in linear time (no backtracking), so 100 000
    // characters that almost match are decided at once.
    let c = constraint("${string:/^(a+)+$/}").unwrap();
    let value = format!("v: {}!\n", "a".repeat(100_000));
    let doc = spectro_packs::syntax::parse_yaml(&value, Default::default()).unwrap();
    // (A backtracking engine would not finish this line in our lifetime.)
    assert!(
        c.format
            .unwrap()
            .check(doc.root.get("v").unwrap())
            .is_some()
    );
    // A pattern whose compiled program would be huge is refused with a message, not built.
    let e = constraint("${string:/a{1000}{1000}{1000}/}").unwrap_err();
    assert!(e.to_string().contains("regular expression"), "{e}");
    // ... and in a pack's schema.yaml it is a finding with the place, not a hang.
    let t = tempfile::tempdir().unwrap();
    pack_with(t.path(), GOOD_JSON, b"pack:\n  namespace: x\nname: a\n");
    fs::write(
        t.path().join("schema.yaml"),
        "name:\n  schema: '{{ format \"${string:/a{1000}{1000}{1000}/}\" }}'\n",
    )
    .unwrap();
    let r = validate_pack(t.path()).unwrap();
    assert!(
        r.diagnostics.iter().any(|d| d.file == "schema.yaml"),
        "{:?}",
        r.diagnostics
    );
}

#[test]
fn a_byte_order_mark_is_skipped_like_helm_does() {
    let t = tempfile::tempdir().unwrap();
    let mut json = "\u{feff}".as_bytes().to_vec();
    json.extend_from_slice(GOOD_JSON);
    pack_with(
        t.path(),
        &json,
        "\u{feff}pack:\n  namespace: x\n".as_bytes(),
    );
    let r = validate_pack(t.path()).unwrap();
    let syntax: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| matches!(d.code, "PK002" | "YM001" | "FS003"))
        .collect();
    assert!(syntax.is_empty(), "{syntax:?}");
    // Positions after the mark are still exact (line 1, the mark is not a column).
    let doc = spectro_packs::syntax::parse_json("\u{feff}{\"a\": 1}").unwrap();
    assert_eq!(doc.root.get("a").unwrap().pos.line.get(), 1);
}

#[test]
fn embedded_yaml_repeated_through_aliases_shares_one_budget() {
    // One preset whose `add` expands to ~90 000 nodes (under the per-parse cap), listed
    // 5 000 times through an alias: without a shared budget that is 450 million nodes
    // (memory exhausted); with it, the adds stop being parsed after about ten.
    let add = "a: &a [x, x, x, x, x, x, x, x, x, x]\\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\\n";
    let presets = format!(
        "bomb: &p\n  name: x\n  displayName: x\n  group: g\n  add: \"{add}\"\npresets: [{}]\n",
        vec!["*p"; 5000].join(", ")
    );
    let t = tempfile::tempdir().unwrap();
    pack_with(t.path(), GOOD_JSON, b"pack:\n  namespace: x\n");
    fs::write(t.path().join("presets.yaml"), presets).unwrap();
    let r = validate_pack(t.path()).unwrap();
    assert!(!r.diagnostics.is_empty());
    // The same through a profile's pack values.
    let profile = t.path().join("profile.yaml");
    let packs = vec!["*p"; 5000].join(", ");
    fs::write(
        &profile,
        format!(
            "bomb: &p\n  name: x\n  type: spectro\n  layer: addon\n  version: 1.0.0\n  values: \"{add}\"\nmetadata:\n  name: p\nspec:\n  template:\n    type: add-on\n    packs: [{packs}]\n"
        ),
    )
    .unwrap();
    let r = spectro_packs::validate_profile(&profile, &Default::default()).unwrap();
    assert!(
        r.diagnostics.iter().any(|d| d.message.contains("budget")),
        "{:?}",
        r.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}
