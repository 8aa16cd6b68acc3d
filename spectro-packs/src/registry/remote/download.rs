//! Blob downloads: streamed into a file with bounded memory, hashed on the way, resumed
//! with `Range` after a drop, restarted when a server ignores `Range`, verified against
//! the descriptor's size and digest.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;

use reqwest::Method;
use sha2::{Digest as _, Sha256};

use super::client::HttpStore;
use super::http::Call;
use super::scope_pull;
use crate::error::{Error, Result};
use crate::registry::oci;
use crate::registry::store::Transfer;

impl HttpStore {
    pub(super) fn download(
        &self,
        repo: &str,
        layer: &oci::Descriptor,
        file: &mut File,
        transfer: &Transfer,
    ) -> Result<()> {
        let url = self.t.url(&format!("/v2/{repo}/blobs/{}", layer.digest))?;
        let mut retrier = self.t.retrier();
        let mut hasher = Sha256::new();
        let mut done = 0u64;
        let what = format!("{}/{repo}@{}", self.host, layer.digest);
        // The retry budget restarts whenever the download got further than ever before,
        // so a long download survives several drops; a restart from byte 0 (a server
        // ignoring `Range`) is not progress until it passes the old high-water mark. A
        // request's time allowance covers at most 64 MiB, so a stalled transfer is cut and
        // resumed rather than waited out.
        'attempts: loop {
            retrier.progress(done);
            let mut call = Call::new(Method::GET, url.clone(), scope_pull(repo))
                .cancel(transfer.cancel.as_ref())
                .expect_bytes(layer.size.saturating_sub(done).min(64 << 20));
            if done > 0 {
                call = call.header("range", format!("bytes={done}-"));
            }
            let resp = self.t.send(&call)?;
            let status = resp.status().as_u16();
            let restart = match status {
                200 => done > 0,
                206 => !resp
                    .headers()
                    .get("content-range")
                    .and_then(|r| r.to_str().ok())
                    .is_some_and(|r| r.starts_with(&format!("bytes {done}-"))),
                404 => {
                    return Err(Error::CorruptRegistry {
                        location: what,
                        reason: "the manifest's archive blob is missing".into(),
                    });
                }
                _ => {
                    return Err(self
                        .t
                        .status_error(&format!("GET blob {}", layer.digest), resp));
                }
            };
            if restart {
                if status == 206 && done == 0 {
                    return Err(self.t.violation(format!(
                        "GET blob {}: partial content for a request of the whole blob",
                        layer.digest
                    )));
                }
                file.set_len(0)
                    .map_err(|e| Error::io(crate::registry::staging::DESTINATION, e))?;
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io(crate::registry::staging::DESTINATION, e))?;
                hasher = Sha256::new();
                done = 0;
                if status == 206 {
                    // The range came back wrong: start over, counted as a retry.
                    if !self
                        .t
                        .backoff(&mut retrier, None, transfer.cancel.as_ref())?
                    {
                        return Err(self.t.violation(format!(
                            "GET blob {}: the registry keeps answering the wrong range",
                            layer.digest
                        )));
                    }
                    continue;
                }
            }
            if let Some(h) = resp
                .headers()
                .get("docker-content-digest")
                .and_then(|d| d.to_str().ok())
                && h.starts_with("sha256:")
                && h != layer.digest
            {
                return Err(Error::DigestMismatch {
                    what,
                    expected: layer.digest.clone(),
                    actual: crate::sanitize(h),
                });
            }
            if let Some(n) = resp.content_length()
                && done.checked_add(n) != Some(layer.size)
            {
                return Err(Error::DigestMismatch {
                    what: format!(
                        "{what}: Content-Length {n} from byte {done} where the manifest says {} bytes",
                        layer.size
                    ),
                    expected: layer.digest.clone(),
                    actual: "(not downloaded)".into(),
                });
            }
            // The body is read on its own thread: a stalled body cannot hold off Ctrl-C.
            let chunks = self.t.body_chunks(resp);
            loop {
                let next = loop {
                    if self.t.cancelled(transfer.cancel.as_ref()) {
                        return Err(Error::Cancelled);
                    }
                    match chunks.recv_timeout(Duration::from_millis(50)) {
                        Ok(c) => break c,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                            break Err(std::io::Error::other("the body reader stopped"));
                        }
                    }
                };
                let chunk = match next {
                    Ok(c) => c,
                    Err(e) => {
                        if self
                            .t
                            .backoff(&mut retrier, None, transfer.cancel.as_ref())?
                        {
                            continue 'attempts;
                        }
                        return Err(self.t.err(format!(
                            "GET blob {}: connection failed after {done} of {} bytes: {}",
                            layer.digest,
                            layer.size,
                            crate::sanitize(&e.to_string())
                        )));
                    }
                };
                let k = chunk.len();
                if k == 0 {
                    break;
                }
                if done.saturating_add(k as u64) > layer.size {
                    return Err(Error::DigestMismatch {
                        what: format!("{what}: more bytes than the manifest's {}", layer.size),
                        expected: layer.digest.clone(),
                        actual: "(trailing data)".into(),
                    });
                }
                hasher.update(&chunk);
                file.write_all(&chunk)
                    .map_err(|e| Error::io(crate::registry::staging::DESTINATION, e))?;
                done += k as u64;
                transfer.report(done, Some(layer.size));
            }
            if done < layer.size {
                if self
                    .t
                    .backoff(&mut retrier, None, transfer.cancel.as_ref())?
                {
                    continue;
                }
                return Err(self.t.err(format!(
                    "GET blob {}: got {done} of {} bytes",
                    layer.digest, layer.size
                )));
            }
            let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
            if actual != layer.digest {
                return Err(Error::DigestMismatch {
                    what,
                    expected: layer.digest.clone(),
                    actual,
                });
            }
            return Ok(());
        }
    }
}
