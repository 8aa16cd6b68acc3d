//! The JSON Schemas exist twice: in the library crate (`spectro-packs/schemas/`, embedded
//! with `include_str!` so the published crate is self-contained) and at the top level
//! (`schemas/`, for editors). The crate's copy is the source; this test keeps the two
//! byte-identical.

use spectro_tests::repo_root;

#[test]
fn top_level_schemas_equal_the_crate_copies() {
    let crate_dir = repo_root().join("spectro-packs/schemas");
    let top = repo_root().join("schemas");
    let mut names: Vec<_> = std::fs::read_dir(&crate_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let mut top_names: Vec<_> = std::fs::read_dir(&top)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    top_names.sort();
    assert_eq!(
        names, top_names,
        "the two schema folders hold different files"
    );
    for n in names {
        let a = std::fs::read(crate_dir.join(&n)).unwrap();
        let b = std::fs::read(top.join(&n)).unwrap();
        assert!(
            a == b,
            "schemas/{} differs from spectro-packs/schemas/{}: copy the crate's version over",
            n.to_string_lossy(),
            n.to_string_lossy()
        );
    }
    // What the library embeds is that file.
    assert_eq!(
        spectro_packs::schema::SchemaKind::Pack.text().as_bytes(),
        std::fs::read(crate_dir.join("pack.schema.json")).unwrap()
    );
}
