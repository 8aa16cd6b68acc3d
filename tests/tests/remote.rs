//! The OCI distribution backend against a real registry (CNCF distribution 2.8, started
//! by `scripts/test.sh`): the shared conformance suite, Basic auth, Palette's exact
//! manifest shape, chunked uploads, cross-repo mounts and the untag path.

use spectro_packs::Error;
use spectro_packs::registry::{Credential, OciRegistry, RegistryLocation, RemoteOptions};
use spectro_tests::conformance::conformance;
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

#[test]
fn oci_backend_passes_conformance() {
    let Some(regs) = test_registries() else {
        return;
    };
    conformance(&connect(&regs.plain, &unique_base("conf"), plain_opts()));
}

#[test]
fn oci_backend_passes_conformance_with_basic_auth() {
    let Some(regs) = test_registries() else {
        return;
    };
    let mut o = plain_opts();
    o.credential = Some(Credential::basic(&regs.user, &regs.password));
    conformance(&connect(&regs.auth, &unique_base("auth"), o));
}

#[test]
fn wrong_or_missing_credentials_are_unauthorized() {
    let Some(regs) = test_registries() else {
        return;
    };
    let anon = connect(&regs.auth, "x", plain_opts());
    match anon.ping() {
        Err(Error::Unauthorized { hint: Some(h), .. }) => {
            assert!(h.contains("spectro registry login"), "{h}")
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
