//! Blob uploads as explicit states: check (HEAD, unless the digest is still being
//! computed) → start (POST, or a cross-repository mount) → send (the strategy chosen
//! once per session: whole from memory, resumable chunks, or one streamed PUT once the
//! registry refused chunks) → finish (PUT with the digest, checked against
//! `Docker-Content-Digest`). Restarts and chunk resumes count against
//! [`super::retry::Retrier`] budgets.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use reqwest::Method;
use reqwest::header::{HeaderMap, LOCATION};
use url::Url;

use super::client::HttpStore;
use super::http::{Call, Payload, is_cancelled, redact};
use super::retry::retryable_status;
use super::scope_push;
use super::wire::WireResponse;
use crate::error::{Error, Result};
use crate::registry::store::{BlobSource, Store, Transfer};

/// What happened to one blob on push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(super) enum BlobPush {
    /// The repository had it already.
    Exists,
    /// Mounted from another repository of the registry (no bytes sent).
    Mounted,
    /// Uploaded in one request.
    Monolithic,
    /// Uploaded in chunks.
    Chunked,
}

impl HttpStore {
    /// Upload a blob unless the repository has it: cross-repo mount when this client
    /// saw it elsewhere, one PUT up to `monolithic_max`, else resumable chunks (or one
    /// streamed PUT when the registry refuses chunks); a transient failure starts a new
    /// session. The digest may still be being computed: the upload starts at once, the registry is asked whether it has the blob as soon as
    /// the digest is known (the session is dropped if it has), and the digest goes with
    /// the final request.
    pub(super) fn push_blob(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: &mut BlobDigest<'_>,
        size: u64,
        transfer: &Transfer,
    ) -> Result<BlobPush> {
        if let Some(d) = digest.known()
            && self.has_blob(repo, d)?
        {
            return Ok(BlobPush::Exists);
        }
        let mut sessions = self.t.retrier();
        loop {
            match self.upload_once(repo, &source, digest, size, transfer) {
                Ok(how) => {
                    self.remember(&digest.wait()?, repo);
                    return Ok(how);
                }
                Err(UploadError::Retry(e, headers)) => {
                    let (e, headers) = (*e, headers.map(|h| *h));
                    if !self
                        .t
                        .backoff(&mut sessions, headers.as_ref(), transfer.cancel.as_ref())?
                    {
                        return Err(e);
                    }
                    // A session that failed late may still have completed.
                    let d = digest.wait()?;
                    if self.has_blob(repo, &d)? {
                        return Ok(BlobPush::Monolithic);
                    }
                }
                Err(UploadError::Fatal(e)) => return Err(*e),
            }
        }
    }

    /// Resolve an upload `Location` against the request URL (relative forms and query
    /// kept); no https → http.
    fn location_of(
        &self,
        base: &Url,
        headers: &HeaderMap,
    ) -> std::result::Result<Url, UploadError> {
        let loc = headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| {
                UploadError::fatal(self.t.violation("upload response has no Location"))
            })?;
        let url = base.join(loc).map_err(|e| {
            UploadError::fatal(self.t.violation(format!(
                "bad upload Location `{}`: {e}",
                crate::sanitize(loc.split('?').next().unwrap_or_default())
            )))
        })?;
        if base.scheme() == "https" && url.scheme() != "https" {
            return Err(UploadError::fatal(self.t.violation(format!(
                "refusing upload Location that downgrades to {}",
                redact(&url)
            ))));
        }
        Ok(url)
    }

    fn classify(
        &self,
        what: &str,
        r: Result<WireResponse>,
    ) -> std::result::Result<WireResponse, UploadError> {
        match r {
            Ok(resp) => Ok(resp),
            Err(e @ Error::Remote { .. }) => Err(UploadError::retry(e, None)),
            Err(e) => {
                let _ = what;
                Err(UploadError::fatal(e))
            }
        }
    }

    fn unexpected(&self, what: &str, resp: WireResponse) -> UploadError {
        let retry = retryable_status(resp.status());
        let headers = resp.headers().clone();
        let e = self.t.status_error(what, resp);
        if retry {
            UploadError::retry(e, Some(headers))
        } else {
            UploadError::fatal(e)
        }
    }

    fn upload_once(
        &self,
        repo: &str,
        source: &BlobSource<'_>,
        pending: &mut BlobDigest<'_>,
        size: u64,
        transfer: &Transfer,
    ) -> std::result::Result<BlobPush, UploadError> {
        let fatal = UploadError::fatal;
        let known = pending.known().map(str::to_owned);
        let from = known.as_ref().and_then(|d| {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(d)
                .filter(|r| r.as_str() != repo)
                .cloned()
        });
        let (start_url, scopes) = match (&from, &known) {
            (Some(f), Some(digest)) => (
                self.t
                    .url(&format!(
                        "/v2/{repo}/blobs/uploads/?mount={digest}&from={f}"
                    ))
                    .map_err(fatal)?,
                vec![
                    format!("repository:{repo}:pull,push"),
                    format!("repository:{f}:pull"),
                ],
            ),
            _ => (
                self.t
                    .url(&format!("/v2/{repo}/blobs/uploads/"))
                    .map_err(fatal)?,
                scope_push(repo),
            ),
        };
        let resp = self.classify(
            "start upload",
            self.t.send(
                &Call::new(Method::POST, start_url.clone(), scopes)
                    .cancel(transfer.cancel.as_ref()),
            ),
        )?;
        match resp.status().as_u16() {
            201 if from.is_some() => return Ok(BlobPush::Mounted),
            201 | 202 => {}
            _ => return Err(self.unexpected(&format!("POST {}", redact(&start_url)), resp)),
        }
        let mut location = self.location_of(&start_url, resp.headers())?;
        let chunk_size = chunk_length(self.chunk_size, resp.headers());
        let chunked = matches!(source, BlobSource::File(_))
            && size > self.monolithic_max
            && !self.no_patch.load(std::sync::atomic::Ordering::Relaxed);
        if !chunked {
            let payload = match source {
                BlobSource::Bytes(b) => Payload::Bytes(b),
                // Small enough to send as one buffer (far cheaper than streaming).
                BlobSource::File(p) if size <= self.monolithic_max => {
                    let bytes = std::fs::read(p).map_err(|e| fatal(Error::io(p, e)))?;
                    if bytes.len() as u64 != size {
                        return Err(fatal(Error::io(
                            p,
                            std::io::Error::other("the file changed while being pushed"),
                        )));
                    }
                    Payload::Owned(bytes.into())
                }
                // A registry that refuses chunks: stream the file in one request.
                BlobSource::File(p) => file_payload(p, 0, size, size, transfer),
            };
            let digest = pending.wait().map_err(fatal)?;
            let mut url = location.clone();
            url.query_pairs_mut().append_pair("digest", &digest);
            let resp = self.classify(
                "upload",
                self.t.send(
                    &Call::new(Method::PUT, url.clone(), scope_push(repo))
                        .header("content-type", "application/octet-stream")
                        .payload(payload)
                        .no_retry()
                        .cancel(transfer.cancel.as_ref()),
                ),
            )?;
            transfer.report(size, Some(size));
            return self
                .finish_upload(resp, &url, &digest)
                .map(|()| BlobPush::Monolithic);
        }
        let BlobSource::File(path) = source else {
            unreachable!("chunked only for files")
        };
        let mut offset = 0u64;
        let mut resumes = self.t.retrier();
        let mut file = File::open(path).map_err(|e| fatal(Error::io(path, e)))?;
        let mut checked = known.is_some();
        while offset < size {
            if is_cancelled(transfer.cancel.as_ref()) {
                return Err(fatal(Error::Cancelled));
            }
            let len = chunk_size.min(size - offset);
            // One chunk in memory, sent as a single buffer (bounded by `chunk_length`).
            let mut chunk = vec![0u8; len as usize];
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.read_exact(&mut chunk))
                .map_err(|e| fatal(Error::io(path, e)))?;
            let resp = self.t.send(
                &Call::new(Method::PATCH, location.clone(), scope_push(repo))
                    .header("content-type", "application/octet-stream")
                    .header("content-range", format!("{offset}-{}", offset + len - 1))
                    .payload(Payload::Owned(chunk.into()))
                    .no_retry()
                    .cancel(transfer.cancel.as_ref()),
            );
            let failed = match resp {
                Ok(r) if r.status().as_u16() == 202 => {
                    location = self.location_of(&location, r.headers())?;
                    offset += len;
                    transfer.report(offset, Some(size));
                    if !checked && let Some(d) = pending.poll().map_err(fatal)? {
                        checked = true;
                        if self.has_blob(repo, &d).map_err(fatal)? {
                            // Pushed before (an interrupted run): drop this session.
                            let _ = self.t.send(&Call::new(
                                Method::DELETE,
                                location.clone(),
                                scope_push(repo),
                            ));
                            return Ok(BlobPush::Exists);
                        }
                    }
                    continue;
                }
                Ok(r) if r.status().as_u16() == 416 || retryable_status(r.status()) => {
                    Some(r.headers().clone())
                }
                Ok(r)
                    if offset == 0
                        && matches!(r.status().as_u16(), 400 | 404 | 405 | 415 | 501) =>
                {
                    // The registry does not take chunks: use one streamed PUT from now on.
                    self.no_patch
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(self.unexpected("PATCH chunk", r).into_retry());
                }
                Ok(r) => return Err(self.unexpected("PATCH chunk", r)),
                Err(Error::Cancelled) => return Err(fatal(Error::Cancelled)),
                Err(Error::Remote { .. }) => None,
                Err(e) => return Err(fatal(e)),
            };
            // Resume: ask the registry how much it has. The budget restarts after
            // progress, so long uploads survive several drops.
            resumes.progress(offset);
            if !self
                .t
                .backoff(&mut resumes, failed.as_ref(), transfer.cancel.as_ref())
                .map_err(fatal)?
            {
                return Err(UploadError::retry(
                    self.t.err(format!(
                        "chunked upload to {repo} kept failing at byte {offset}"
                    )),
                    None,
                ));
            }
            let status = self.classify(
                "upload status",
                self.t.send(
                    &Call::new(Method::GET, location.clone(), scope_push(repo))
                        .cancel(transfer.cancel.as_ref()),
                ),
            )?;
            if status.status().as_u16() != 204 {
                // The session is gone (distribution cancels it on a stale `_state`):
                // start a new one.
                return Err(self.unexpected("upload status", status).into_retry());
            }
            location = self.location_of(&location, status.headers())?;
            // `Range: 0-<last byte>`; distribution also says `0-0` for an empty session,
            // so that means "start over" (a 1-byte chunk is never sent).
            offset = status
                .headers()
                .get("range")
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.rsplit('-').next()?.trim().parse::<u64>().ok())
                .map_or(0, |end| if end == 0 { 0 } else { end.saturating_add(1) })
                .min(offset + len);
        }
        let digest = pending.wait().map_err(fatal)?;
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", &digest);
        let resp = self.classify(
            "finish upload",
            self.t.send(
                &Call::new(Method::PUT, url.clone(), scope_push(repo))
                    .no_retry()
                    .cancel(transfer.cancel.as_ref()),
            ),
        )?;
        self.finish_upload(resp, &url, &digest)
            .map(|()| BlobPush::Chunked)
    }

    fn finish_upload(
        &self,
        resp: WireResponse,
        url: &Url,
        digest: &str,
    ) -> std::result::Result<(), UploadError> {
        if resp.status().as_u16() != 201 {
            return Err(self.unexpected(&format!("PUT {}", redact(url)), resp));
        }
        if let Some(got) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            && got != digest
        {
            return Err(UploadError::fatal(Error::DigestMismatch {
                what: format!("{} (uploaded blob)", self.t.registry),
                expected: digest.to_owned(),
                actual: crate::sanitize(got),
            }));
        }
        Ok(())
    }
}

/// Largest chunk a registry's `OCI-Chunk-Min-Length` can make us hold in memory.
const MAX_CHUNK_MIN: u64 = 64 << 20;

/// The length of the chunks of one session: the configured size, raised to the
/// `OCI-Chunk-Min-Length` the registry answered the session start with (every chunk but
/// the last must be at least that long), but never above [`MAX_CHUNK_MIN`] for a header
/// (a registry asking for more may refuse those chunks; a refused first chunk falls back
/// to one streamed PUT, which needs no buffer).
fn chunk_length(configured: u64, start: &HeaderMap) -> u64 {
    let asked = start
        .get("oci-chunk-min-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    configured.max(asked.min(MAX_CHUNK_MIN))
}

/// A blob's digest: known, or being computed by a thread while the upload runs.
pub(super) enum BlobDigest<'s> {
    Known(String),
    Hashing {
        handle: Option<std::thread::ScopedJoinHandle<'s, Result<(String, u64)>>>,
        size: u64,
        path: PathBuf,
    },
}

impl BlobDigest<'_> {
    pub(super) fn known(&self) -> Option<&str> {
        match self {
            BlobDigest::Known(d) => Some(d),
            BlobDigest::Hashing { .. } => None,
        }
    }

    /// The digest if the hashing finished (without waiting).
    pub(super) fn poll(&mut self) -> Result<Option<String>> {
        match self {
            BlobDigest::Known(d) => Ok(Some(d.clone())),
            BlobDigest::Hashing { handle, .. } => {
                if handle.as_ref().is_some_and(|h| h.is_finished()) {
                    self.wait().map(Some)
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// The digest, waiting for the hashing to finish.
    pub(super) fn wait(&mut self) -> Result<String> {
        match self {
            BlobDigest::Known(d) => Ok(d.clone()),
            BlobDigest::Hashing { handle, size, path } => {
                let joined = handle.take().map(|h| h.join());
                let (digest, n) = match joined {
                    Some(Ok(r)) => r?,
                    _ => {
                        return Err(Error::io(
                            path.as_path(),
                            std::io::Error::other("hashing the archive failed"),
                        ));
                    }
                };
                if n != *size {
                    return Err(Error::io(
                        path.as_path(),
                        std::io::Error::other("the file changed while being pushed"),
                    ));
                }
                *self = BlobDigest::Known(digest.clone());
                Ok(digest)
            }
        }
    }
}

enum UploadError {
    /// Transient: start over with a new session.
    Retry(Box<Error>, Option<Box<HeaderMap>>),
    Fatal(Box<Error>),
}

impl UploadError {
    fn into_retry(self) -> Self {
        match self {
            UploadError::Fatal(e) => UploadError::Retry(e, None),
            r => r,
        }
    }
    fn fatal(e: Error) -> Self {
        UploadError::Fatal(Box::new(e))
    }
    fn retry(e: Error, headers: Option<HeaderMap>) -> Self {
        UploadError::Retry(Box::new(e), headers.map(Box::new))
    }
}

fn file_payload<'a>(
    path: &Path,
    offset: u64,
    len: u64,
    total: u64,
    transfer: &Transfer,
) -> Payload<'a> {
    Payload::File {
        path: path.to_path_buf(),
        offset,
        len,
        done_before: offset,
        total: Some(total),
        progress: transfer.progress.clone(),
        cancel: transfer.cancel.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_min_length_raises_the_chunk_size_up_to_a_cap() {
        let start = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("oci-chunk-min-length", v.parse().expect("a header value"));
            h
        };
        assert_eq!(chunk_length(16 << 10, &HeaderMap::new()), 16 << 10);
        assert_eq!(chunk_length(16 << 10, &start("32768")), 32 << 10);
        assert_eq!(
            chunk_length(16 << 20, &start("5242880")),
            16 << 20,
            "never lower"
        );
        assert_eq!(
            chunk_length(16 << 10, &start("1099511627776")),
            MAX_CHUNK_MIN,
            "a hostile minimum cannot make us buffer a terabyte"
        );
        assert_eq!(chunk_length(16 << 10, &start("lots")), 16 << 10);
    }
}
