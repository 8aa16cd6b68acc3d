//! Manifests over the distribution API: GET/HEAD with the OCI `Accept` header, verified
//! against the digest asked for and `Docker-Content-Digest`; PUT; DELETE by digest; and
//! a side-effect-free probe of whether deletes work.

use reqwest::Method;

use super::client::HttpStore;
use super::http::{Call, Payload};
use super::status::read_capped;
use super::wire::WireResponse;
use super::{MANIFEST_ACCEPT, scope_pull, scope_push};
use crate::error::{Error, Result};
use crate::registry::oci;

impl HttpStore {
    /// `(digest, raw bytes)` of a manifest by tag or digest; verified against the digest
    /// asked for and the `Docker-Content-Digest` header. `None` when absent.
    pub(super) fn fetch_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let Some(resp) = self.manifest_request(Method::GET, repo, reference)? else {
            return Ok(None);
        };
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .map(str::to_owned);
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|d| d.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = read_capped(resp, oci::MAX_MANIFEST_BYTES)
            .map_err(|e| self.t.err(format!("manifest {repo}:{reference}: {e}")))?;
        let digest = oci::sha256_digest(&bytes);
        let expected = if oci::is_sha256_digest(reference) {
            Some(reference.to_owned())
        } else {
            header_digest.filter(|d| d.starts_with("sha256:"))
        };
        if let Some(exp) = expected
            && exp != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("{}/{repo}:{reference} (manifest)", self.host),
                expected: crate::sanitize(&exp),
                actual: digest,
            });
        }
        if !content_type.is_empty() && !content_type.starts_with(oci::MANIFEST_MEDIA_TYPE) {
            return Err(Error::CorruptRegistry {
                location: format!("{}/{repo}:{reference}", self.host),
                reason: format!(
                    "not a pack manifest (media type `{}`)",
                    crate::sanitize(&content_type)
                ),
            });
        }
        Ok(Some((digest, bytes)))
    }

    /// GET or HEAD a manifest with the OCI Accept header: the 200 response, `None` on 404.
    pub(super) fn manifest_request(
        &self,
        method: Method,
        repo: &str,
        reference: &str,
    ) -> Result<Option<WireResponse>> {
        let what = format!("{method} manifest {repo}:{reference}");
        let url = self.t.url(&format!("/v2/{repo}/manifests/{reference}"))?;
        let resp = self
            .t
            .send(&Call::new(method, url, scope_pull(repo)).header("accept", MANIFEST_ACCEPT))?;
        match resp.status().as_u16() {
            200 => Ok(Some(resp)),
            404 => Ok(None),
            _ => Err(self.t.status_error(&what, resp)),
        }
    }

    /// Digest of the manifest a tag points at (HEAD), `None` when absent.
    pub(super) fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<String>> {
        let Some(resp) = self.manifest_request(Method::HEAD, repo, reference)? else {
            return Ok(None);
        };
        match resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .filter(|d| oci::is_sha256_digest(d))
        {
            Some(d) => Ok(Some(d.to_owned())),
            // No header: fetch and hash.
            None => Ok(self.fetch_manifest(repo, reference)?.map(|(d, _)| d)),
        }
    }

    pub(super) fn send_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> Result<String> {
        let url = self.t.url(&format!("/v2/{repo}/manifests/{tag}"))?;
        let resp = self.t.send(
            &Call::new(Method::PUT, url, scope_push(repo))
                .header("content-type", oci::MANIFEST_MEDIA_TYPE)
                .payload(Payload::Bytes(bytes)),
        )?;
        if resp.status().as_u16() != 201 {
            return Err(self
                .t
                .status_error(&format!("PUT manifest {repo}:{tag}"), resp));
        }
        let digest = oci::sha256_digest(bytes);
        if let Some(got) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            && got != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("{}/{repo}:{tag} (manifest)", self.host),
                expected: digest,
                actual: crate::sanitize(got),
            });
        }
        Ok(digest)
    }

    /// Whether this registry deletes manifests in `repo`, asked without changing
    /// anything: a DELETE of a digest that cannot exist answers 404 where deletes work
    /// and 405 (CNCF distribution's default, GHCR) where they do not.
    pub(super) fn probe_delete(&self, repo: &str) -> Result<bool> {
        let nonce = format!(
            "spectro-delete-probe-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        let digest = oci::sha256_digest(nonce.as_bytes());
        match self.remove_manifest(repo, &digest) {
            Ok(_) => Ok(true),
            Err(Error::Unsupported(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// DELETE a manifest by digest: `false` when the registry has no such manifest.
    pub(super) fn remove_manifest(&self, repo: &str, digest: &str) -> Result<bool> {
        let url = self.t.url(&format!("/v2/{repo}/manifests/{digest}"))?;
        let resp = self.t.send(&Call::new(
            Method::DELETE,
            url,
            vec![format!("repository:{repo}:pull,push,delete")],
        ))?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            405 => Err(Error::Unsupported(format!(
                "{}: the registry does not allow deleting manifests (for CNCF distribution set storage.delete.enabled)",
                self.location
            ))),
            _ => Err(self
                .t
                .status_error(&format!("DELETE manifest {digest}"), resp)),
        }
    }
}
