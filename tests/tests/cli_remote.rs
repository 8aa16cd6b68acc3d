//! `spectro registry login/logout` and the credential chain, end to end through the CLI
//! against the htpasswd registry: spectro's config, Docker's config with a credential
//! helper, and the CI environment variables.

use std::path::Path;

use spectro_tests::conformance::pack;
use spectro_tests::{Run, run_spectro, test_registries, unique_base};

fn spectro(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    run_spectro(home, args, env, stdin)
}

#[test]
fn login_checks_saves_privately_and_logout_forgets() {
    let Some(regs) = test_registries() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("config.json");
    let host = format!("http://{}", regs.auth);
    let bad = spectro(
        home.path(),
        &[
            "registry",
            "login",
            &host,
            "-u",
            &regs.user,
            "--password-stdin",
        ],
        &[],
        Some("wrong\n"),
    );
    assert_ne!(bad.code, Some(0));
    assert!(
        bad.err.contains("login to") && bad.err.contains("rejected"),
        "{}",
        bad.err
    );
    assert!(!bad.err.contains("wrong"), "the password is never printed");
    assert!(!cfg.exists(), "nothing saved after a failed login");

    let ok = spectro(
        home.path(),
        &[
            "registry",
            "login",
            &host,
            "-u",
            &regs.user,
            "--password-stdin",
        ],
        &[],
        Some(&format!("{}\n", regs.password)),
    );
    assert_eq!(ok.code, Some(0), "{}", ok.err);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    assert_eq!(saved["auths"][&regs.auth]["plainHttp"], true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Saved credentials and the remembered plain-HTTP flag are used by every command.
    let reg = format!("oci://{}/{}", regs.auth, unique_base("login"));
    let p = pack("nginx-chart");
    let push = spectro(
        home.path(),
        &["pack", "push", p.to_str().unwrap(), "-r", &reg],
        &[],
        None,
    );
    assert_eq!(push.code, Some(0), "{}", push.err);
    let out = spectro(home.path(), &["registry", "logout", &regs.auth], &[], None);
    assert_eq!(out.code, Some(0));
    let after = spectro(
        home.path(),
        &["pack", "ls", "-r", &reg, "--plain-http"],
        &[],
        None,
    );
    assert_ne!(after.code, Some(0));
    // The hint names the host with its port (issue 12 item 37).
    assert!(
        after.err.contains(&format!("log in to {}", regs.auth)),
        "{}",
        after.err
    );
    let again = spectro(home.path(), &["registry", "logout", &regs.auth], &[], None);
    assert!(again.out.contains("Not logged in"), "{}", again.out);
    // A local path is not something to log in to.
    let local = spectro(
        home.path(),
        &["registry", "login", "./here", "-u", "x", "-p", "y"],
        &[],
        None,
    );
    assert_ne!(local.code, Some(0));
}

#[test]
fn credentials_from_env_and_docker_credential_helpers() {
    let Some(regs) = test_registries() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let reg = format!("oci://{}/{}", regs.auth, unique_base("creds"));
    let p = pack("nginx-chart");
    let p = p.to_str().unwrap();
    // CI: environment variables, bound to the registry's host.
    let env = spectro(
        home.path(),
        &["pack", "push", p, "-r", &reg, "--plain-http"],
        &[
            ("SPECTRO_REGISTRY_USERNAME", &regs.user),
            ("SPECTRO_REGISTRY_PASSWORD", &regs.password),
            ("SPECTRO_REGISTRY_HOST", &regs.auth),
        ],
        None,
    );
    assert_eq!(env.code, Some(0), "{}", env.err);
    // Issue 12 item 27: bound to no host (neither SPECTRO_REGISTRY_HOST nor a remote
    // SPECTRO_REGISTRY), they are not sent to the host given with -r, and the error
    // says why.
    let unbound = spectro(
        home.path(),
        &["pack", "ls", "-r", &reg, "--plain-http"],
        &[
            ("SPECTRO_REGISTRY_USERNAME", &regs.user),
            ("SPECTRO_REGISTRY_PASSWORD", &regs.password),
        ],
        None,
    );
    assert_ne!(unbound.code, Some(0));
    assert!(unbound.err.contains("bound to no host"), "{}", unbound.err);
    // Bound to another host, the same variables are not sent to this one.
    let bound = spectro(
        home.path(),
        &["pack", "ls", "-r", &reg, "--plain-http"],
        &[
            ("SPECTRO_REGISTRY_USERNAME", &regs.user),
            ("SPECTRO_REGISTRY_PASSWORD", &regs.password),
            ("SPECTRO_REGISTRY_HOST", "registry.example.com"),
        ],
        None,
    );
    assert_ne!(bound.code, Some(0));
    assert!(bound.err.contains("unauthorized"), "{}", bound.err);
    // Docker's config.json naming a credential helper, found on PATH.
    let docker = home.path().join("docker");
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers": {{"{}": "spectrotest"}}}}"#, regs.auth),
    )
    .unwrap();
    let helper = bin.join("docker-credential-spectrotest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"{}\" ] || exit 1\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{}\",\"Secret\":\"{}\"}}'\n",
            regs.auth, regs.user, regs.password
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ls = spectro(
        home.path(),
        &["pack", "ls", "-r", &reg, "--plain-http", "--format", "json"],
        &[("DOCKER_CONFIG", docker.to_str().unwrap()), ("PATH", &path)],
        None,
    );
    assert_eq!(ls.code, Some(0), "{}", ls.err);
    let v: serde_json::Value = serde_json::from_str(&ls.out).unwrap();
    assert_eq!(v["packs"][0]["name"], "nginx");
}
