//! `pack build`: the lint runs beside the compression, `--no-validate` reads only what the
//! archive needs, and the output lands where `tar` and `helm package` would put it.

use std::fs;
use std::path::Path;

use spectro_packs::Error;
use spectro_packs::archive::{ArchiveProblem, BuildOptions, build_archive};
use spectro_tests::conformance::{copy_tree, pack};
use spectro_tests::run_spectro;

/// Names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A valid fixture pack copied to `into/<name>`, with `edit` applied.
fn edited(into: &Path, fixture: &str, edit: impl FnOnce(&Path)) -> std::path::PathBuf {
    let dir = into.join(fixture);
    copy_tree(&pack(fixture), &dir);
    edit(&dir);
    dir
}

/// `spectro pack build <nginx-chart> -o <out>` with `work` as SPECTRO_HOME; must succeed.
fn cli_build(work: &Path, out: &str) {
    let pack = pack("nginx-chart");
    let args = ["pack", "build", pack.to_str().unwrap(), "-o", out];
    let run = run_spectro(work, &args, &[], None);
    assert_eq!(run.code, Some(0), "{}", run.err);
}

#[test]
fn output_path_ending_in_slash_is_a_folder_created_on_demand() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("dist/nested");
    cli_build(work.path(), &format!("{}/", out.display()));
    assert_eq!(names(&out), ["nginx-1.11.2.tar.gz"]);
    // Without the slash, a path that does not exist is the archive's file name.
    let file = work.path().join("named.tgz");
    cli_build(work.path(), file.to_str().unwrap());
    assert!(file.is_file());
}

#[cfg(unix)]
#[test]
fn archive_mode_is_0644_minus_umask_like_tar() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    // What this process's umask makes of a new 0666 file.
    let probe = work.path().join("probe");
    fs::write(&probe, "").unwrap();
    let expected = fs::metadata(&probe).unwrap().permissions().mode() & 0o644;
    for validate in [true, false] {
        let out = work.path().join(format!("out-{validate}"));
        let built = build_archive(
            pack("nginx-chart"),
            &out,
            &BuildOptions::default().with_validate(validate),
        )
        .unwrap();
        let mode = fs::metadata(&built.path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, expected, "validate={validate}");
    }
}

#[test]
fn lint_errors_refuse_the_build_and_leave_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    let dir = edited(work.path(), "nginx-chart", |d| {
        let text = fs::read_to_string(d.join("pack.json")).unwrap();
        fs::write(d.join("pack.json"), text.replace("\"addon\"", "\"adon\"")).unwrap();
    });
    let out = work.path().join("dist");
    fs::create_dir(&out).unwrap();
    let err = build_archive(&dir, &out, &BuildOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Archive {
                problem: ArchiveProblem::Invalid { errors: 1 },
                ..
            }
        ),
        "{err:?}"
    );
    // The archive was being written while the lint ran: neither it nor its temporary
    // file may stay.
    assert_eq!(names(&out), Vec::<String>::new());
    // The same pack builds without validation, to the same place.
    let built = build_archive(&dir, &out, &BuildOptions::default().with_validate(false)).unwrap();
    assert_eq!(names(&out), ["nginx-1.11.2.tar.gz"]);
    assert!(built.size > 0);
}

#[test]
fn lint_findings_win_over_a_missing_identity() {
    let work = tempfile::tempdir().unwrap();
    let dir = edited(work.path(), "nginx-chart", |d| {
        fs::write(
            d.join("pack.json"),
            r#"{"version": "1.0.0", "layer": "addon"}"#,
        )
        .unwrap();
    });
    let err = build_archive(&dir, work.path(), &BuildOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Archive {
                problem: ArchiveProblem::Invalid { .. },
                ..
            }
        ),
        "validating: {err:?}"
    );
    let err = build_archive(
        &dir,
        work.path(),
        &BuildOptions::default().with_validate(false),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Archive {
                problem: ArchiveProblem::NoIdentity,
                ..
            }
        ),
        "not validating: {err:?}"
    );
}

#[test]
fn no_validate_builds_packs_whose_yaml_is_broken_and_validated_builds_are_identical() {
    let work = tempfile::tempdir().unwrap();
    // YAML that does not parse: `--no-validate` must not even look at it.
    let broken = edited(work.path(), "nginx-chart", |d| {
        fs::write(d.join("values.yaml"), "pack: [unclosed\n  : :\n").unwrap();
        fs::create_dir_all(d.join("manifests")).unwrap();
        fs::write(d.join("manifests/bad.yaml"), "a: b: c\n").unwrap();
    });
    let quick = BuildOptions::default().with_validate(false);
    let built = build_archive(&broken, work.path().join("a/"), &quick).unwrap();
    assert_eq!(built.name, "nginx");
    assert!(build_archive(&broken, work.path().join("b/"), &BuildOptions::default()).is_err());
    // For a valid pack the lint changes nothing in the bytes.
    let one = build_archive(pack("nginx-chart"), work.path().join("c/"), &quick).unwrap();
    let two = build_archive(
        pack("nginx-chart"),
        work.path().join("d/"),
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(one.digest, two.digest);
}
