//! docs/security.md names the test behind every row: each `FILE::TEST` it mentions must
//! exist (a Rust `fn TEST(` or a Python `def TEST(` in FILE), so a renamed or deleted test
//! cannot leave a row claiming a proof that is gone.

use spectro_tests::repo_root;

#[test]
fn every_test_named_in_security_md_exists() {
    let doc = std::fs::read_to_string(repo_root().join("docs/security.md")).unwrap();
    let mut checked = 0;
    for word in doc.split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | '(' | ')')) {
        let Some((file, test)) = word.split_once("::") else {
            continue;
        };
        let (is_rs, is_py) = (file.ends_with(".rs"), file.ends_with(".py"));
        if !is_rs && !is_py {
            continue;
        }
        let test = test.trim_end_matches(['.', ';']);
        let text = std::fs::read_to_string(repo_root().join(file))
            .unwrap_or_else(|e| panic!("docs/security.md names {file}, which cannot be read: {e}"));
        let decl = if is_rs {
            format!("fn {test}(")
        } else {
            format!("def {test}(")
        };
        assert!(
            text.contains(&decl),
            "docs/security.md names {file}::{test}, which does not exist"
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} test references found");
}

/// The catalogue section has one row per item 1-61 of reliability.md §5, and each row
/// names a test or says why it does not apply.
#[test]
fn every_catalogue_item_has_a_row_with_a_test_or_a_reason() {
    let doc = std::fs::read_to_string(repo_root().join("docs/security.md")).unwrap();
    let start = doc.find("## The catalogue").expect("a catalogue section");
    let section = &doc[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut seen = vec![0u32; 62];
    let (mut proven, mut not_applicable) = (0, 0);
    for row in section[..end].lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        let Ok(n) = cells[0].parse::<usize>() else {
            // Header rows, and extra rows such as `12b` (found while mapping).
            continue;
        };
        assert!((1..=61).contains(&n), "row {n} is not a catalogue item");
        seen[n] += 1;
        let test = cells.last().unwrap();
        if test.starts_with("n/a:") {
            not_applicable += 1;
        } else {
            assert!(test.contains("::"), "row {n} names no test: {test}");
            proven += 1;
        }
    }
    let missing: Vec<usize> = (1..=61).filter(|n| seen[*n] == 0).collect();
    let twice: Vec<usize> = (1..=61).filter(|n| seen[*n] > 1).collect();
    assert!(
        missing.is_empty(),
        "catalogue items without a row: {missing:?}"
    );
    assert!(twice.is_empty(), "catalogue items with two rows: {twice:?}");
    assert_eq!(proven + not_applicable, 61);
    // 58 proven by tests, 3 that do not apply (28, 47, 51); 54 has a test for the one
    // graph walk we do.
    assert_eq!((proven, not_applicable), (58, 3));
}
