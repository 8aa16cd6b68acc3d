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
