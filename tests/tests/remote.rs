//! The OCI distribution backend against a real registry (CNCF distribution 2.8, started
//! by `scripts/test.sh`): the shared conformance suite, Basic auth, Palette's exact
//! manifest shape, chunked uploads, cross-repo mounts and the untag path.

use spectro_packs::Error;
use spectro_packs::registry::{
    Credential, HttpStore, OciRegistry, Registry, RegistryLocation, RemoteOptions,
};
use spectro_tests::conformance::store_suite;
use spectro_tests::conformance_suite;
use spectro_tests::{test_registries, unique_base};

fn plain_opts() -> RemoteOptions {
    let mut o = RemoteOptions::default();
    o.plain_http = true;
    o
}

fn connect(host: &str, base: &str, opts: RemoteOptions) -> OciRegistry {
    let loc = RegistryLocation::parse(&format!("oci://{host}/{base}")).unwrap();
    OciRegistry::connect(&loc, opts).unwrap()
}

conformance_suite!(
    distribution,
    test_registries().map(|regs| {
        let reg: Box<dyn Registry> =
            Box::new(connect(&regs.plain, &unique_base("conf"), plain_opts()));
        (reg, ())
    })
);

conformance_suite!(
    distribution_basic_auth,
    test_registries().map(|regs| {
        let mut o = plain_opts();
        o.credential = Some(Credential::basic(&regs.user, &regs.password));
        let reg: Box<dyn Registry> = Box::new(connect(&regs.auth, &unique_base("auth"), o));
        (reg, ())
    })
);

#[test]
fn http_store_passes_the_store_suite() {
    let Some(regs) = test_registries() else {
        return;
    };
    let loc = RegistryLocation::parse(&format!("oci://{}", regs.plain)).unwrap();
    let store = HttpStore::connect(&loc, plain_opts()).unwrap();
    store_suite(
        &store,
        &format!("{}/spectro-packs/archive/blobby", unique_base("store")),
    );
    let loc = RegistryLocation::parse(&format!("oci://{}", regs.nodelete)).unwrap();
    let store = HttpStore::connect(&loc, plain_opts()).unwrap();
    store_suite(
        &store,
        &format!("{}/spectro-packs/archive/blobby", unique_base("store")),
    );
}

#[test]
fn wrong_or_missing_credentials_are_unauthorized() {
    let Some(regs) = test_registries() else {
        return;
    };
    let anon = connect(&regs.auth, "x", plain_opts());
    match anon.ping() {
        Err(Error::Unauthorized { hint: Some(h), .. }) => {
            assert!(h.contains(&format!("log in to {}", regs.auth)), "{h}")
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let mut o = plain_opts();
    o.credential = Some(Credential::basic(&regs.user, "wrong-password"));
    let bad = connect(&regs.auth, "x", o);
    let e = bad.ping().unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong-password"));
    let mut o = plain_opts();
    o.credential = Some(Credential::basic(&regs.user, &regs.password));
    connect(&regs.auth, "x", o).ping().unwrap();
}

#[test]
fn tls_needs_a_trusted_ca_or_insecure() {
    let Some(regs) = test_registries() else {
        return;
    };
    let no_dir = |mut o: RemoteOptions| {
        o.certs_dir = None;
        o
    };
    // Unknown CA: refused, with what to do.
    let e = connect(&regs.tls, "t", no_dir(RemoteOptions::default()))
        .ping()
        .unwrap_err()
        .to_string();
    // What failed, in the library's words; the CLI adds `--ca-file`/`--insecure`.
    assert!(e.contains("certificate") && !e.contains("--"), "{e}");
    // --ca-file
    let mut o = no_dir(RemoteOptions::default());
    o.ca_files = vec![regs.ca.clone()];
    let reg = connect(&regs.tls, &unique_base("tls"), o);
    reg.ping().unwrap();
    let work = tempfile::tempdir().unwrap();
    let pushed = spectro_packs::registry::Registry::push(
        &reg,
        &spectro_tests::conformance::versioned("nginx-chart", "1.0.0", work.path()),
        &Default::default(),
    )
    .unwrap();
    assert!(pushed.changed);
    // certs.d/<host>/ca.crt, the legacy CLI's place
    let certs = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(certs.path().join(&regs.tls)).unwrap();
    std::fs::copy(&regs.ca, certs.path().join(&regs.tls).join("ca.crt")).unwrap();
    let mut o = RemoteOptions::default();
    o.certs_dir = Some(certs.path().to_path_buf());
    connect(&regs.tls, "t", o).ping().unwrap();
    // --insecure: TLS without verification
    let mut o = no_dir(RemoteOptions::default());
    o.insecure = true;
    connect(&regs.tls, "t", o).ping().unwrap();
    // --plain-http to a TLS server fails clearly instead of downgrading anything.
    let e = connect(&regs.tls, "t", no_dir(plain_opts()))
        .ping()
        .unwrap_err();
    assert!(matches!(e, Error::Status { status: 400, .. }), "{e:?}");
    assert_eq!(e.http_status(), Some(400));
}
