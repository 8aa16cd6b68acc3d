//! Blob downloads: streamed into a file with bounded memory, hashed on the way, resumed
//! with `Range` after a drop, restarted when a server ignores `Range`, verified against
//! the descriptor's size and digest.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
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
        let mut hasher = HashPipe::new();
        // Dirty pages are written back while the download goes on, so the fsync before
        // the rename finds little left to do.
        let writeback = Writeback::new(file);
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
                hasher = HashPipe::new();
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
                let chunk = Arc::new(chunk);
                hasher.feed(Arc::clone(&chunk));
                file.write_all(&chunk)
                    .map_err(|e| Error::io(crate::registry::staging::DESTINATION, e))?;
                done += k as u64;
                if let Some(w) = &writeback {
                    w.progress(done);
                }
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
            let actual = hasher.finish();
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

/// SHA-256 on its own thread: the download's thread only receives and writes, so hashing
/// (the largest CPU cost of a pull) overlaps the network and the disk. Chunks are shared,
/// not copied; at most four wait, so memory stays bounded. When no thread can be started,
/// the hash is computed in line.
enum HashPipe {
    Thread {
        tx: Option<SyncSender<Arc<Vec<u8>>>>,
        handle: Option<JoinHandle<Sha256>>,
    },
    Inline(Sha256),
}

impl HashPipe {
    fn new() -> Self {
        let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(4);
        let spawned = std::thread::Builder::new()
            .name("spectro-hash".into())
            .spawn(move || {
                let mut h = Sha256::new();
                for chunk in rx {
                    h.update(&chunk[..]);
                }
                h
            });
        match spawned {
            Ok(handle) => HashPipe::Thread {
                tx: Some(tx),
                handle: Some(handle),
            },
            Err(_) => HashPipe::Inline(Sha256::new()),
        }
    }

    fn feed(&mut self, chunk: Arc<Vec<u8>>) {
        match self {
            HashPipe::Thread { tx, handle } => {
                let sent = tx
                    .as_ref()
                    .is_some_and(|t| t.send(Arc::clone(&chunk)).is_ok());
                if !sent {
                    // The thread is gone (it cannot fail, but if it did): what it hashed
                    // is lost, so the digest must not match; a fresh in-line hash of the
                    // rest guarantees that, and the download's check then fails loudly.
                    tx.take();
                    handle.take();
                    let mut h = Sha256::new();
                    h.update(b"spectro: the hashing thread stopped");
                    h.update(&chunk[..]);
                    *self = HashPipe::Inline(h);
                }
            }
            HashPipe::Inline(h) => h.update(&chunk[..]),
        }
    }

    /// The `sha256:` digest of everything fed.
    fn finish(mut self) -> String {
        let hash = match &mut self {
            HashPipe::Thread { tx, handle } => {
                tx.take();
                handle.take().and_then(|h| h.join().ok())
            }
            HashPipe::Inline(h) => Some(std::mem::take(h)),
        };
        match hash {
            Some(h) => format!("sha256:{}", hex::encode(h.finalize())),
            None => "sha256:(the hashing thread failed)".to_owned(),
        }
    }
}

impl Drop for HashPipe {
    fn drop(&mut self) {
        if let HashPipe::Thread { tx, handle } = self {
            tx.take();
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// Starts the download file's writeback every 32 MiB (`fdatasync` on a second handle, on
/// its own thread, skipped while one is running). Errors are left to the fsync that
/// publishing the file does anyway.
struct Writeback {
    tx: Option<SyncSender<()>>,
    handle: Option<JoinHandle<()>>,
    last: std::cell::Cell<u64>,
}

const WRITEBACK_EVERY: u64 = 32 << 20;

impl Writeback {
    fn new(file: &File) -> Option<Self> {
        let handle = file.try_clone().ok()?;
        let (tx, rx) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("spectro-writeback".into())
            .spawn(move || {
                for () in rx {
                    let _ = handle.sync_data();
                }
            })
            .ok()?;
        Some(Writeback {
            tx: Some(tx),
            handle: Some(thread),
            last: std::cell::Cell::new(0),
        })
    }

    fn progress(&self, done: u64) {
        if done < self.last.get() {
            // The download restarted from the beginning.
            self.last.set(0);
        }
        if done - self.last.get() >= WRITEBACK_EVERY
            && let Some(tx) = &self.tx
        {
            match tx.try_send(()) {
                Ok(()) => self.last.set(done),
                Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn the_pipe_hashes_what_it_is_fed_in_order() {
        let mut pipe = HashPipe::new();
        let mut whole = Sha256::new();
        for i in 0..20u8 {
            let chunk = vec![i; 100_000 + usize::from(i)];
            whole.update(&chunk);
            pipe.feed(Arc::new(chunk));
        }
        assert_eq!(
            pipe.finish(),
            format!("sha256:{}", hex::encode(whole.finalize()))
        );
        let empty = HashPipe::new().finish();
        assert_eq!(
            empty,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
