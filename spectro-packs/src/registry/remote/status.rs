//! Reading answers: capped bodies, and the error for an answer the protocol did not
//! expect (401 → unauthenticated, 403 → permission denied, else the status with the
//! registry's own error code and message).

use std::io::Read;

use super::http::Transport;
use super::wire::WireResponse;
use crate::error::Error;

/// Largest error body read (for the registry's message).
const MAX_ERROR_BYTES: u64 = 64 << 10;

impl Transport {
    /// The error for an unexpected response to `what` (`GET /v2/`, `PATCH chunk`).
    pub(crate) fn status_error(&self, what: &str, resp: WireResponse) -> Error {
        let status = resp.status().as_u16();
        let (code, detail) = read_capped(resp, MAX_ERROR_BYTES)
            .ok()
            .map(|b| registry_message(&b))
            .unwrap_or_default();
        let detail = Some(detail).filter(|m| !m.is_empty());
        match status {
            401 => Error::Unauthorized {
                registry: self.registry.clone(),
                hint: Some(if self.has_credential() {
                    "the registry rejected the credentials".into()
                } else {
                    self.needs_credentials()
                }),
            },
            403 => Error::Forbidden {
                registry: self.registry.clone(),
                request: what.to_owned(),
                message: detail,
            },
            _ => Error::Status {
                registry: self.registry.clone(),
                request: what.to_owned(),
                status,
                code,
                message: detail,
            },
        }
    }
}

/// The first error code and `CODE: message; ...` from a distribution error body (or the
/// body's text), sanitised and shortened.
pub(crate) fn registry_message(body: &[u8]) -> (Option<String>, String) {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let (code, text) = match serde_json::from_slice::<Errors>(body) {
        Ok(e) => (
            e.errors
                .first()
                .map(|i| crate::sanitize(&i.code))
                .filter(|c| !c.is_empty() && c.len() <= 64),
            e.errors
                .iter()
                .map(|i| format!("{}: {}", i.code, i.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(_) => (None, String::from_utf8_lossy(body).trim().to_owned()),
    };
    let mut s = crate::sanitize(&text);
    if s.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
    (code, s)
}

/// Read a response body up to `cap` bytes; longer is an error (checked on the
/// `Content-Length` first, then on the bytes actually read).
pub(crate) fn read_capped(resp: WireResponse, cap: u64) -> std::result::Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(format!("response larger than the {cap}-byte limit"));
    }
    let mut bytes = Vec::new();
    resp.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("reading the response: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!("response larger than the {cap}-byte limit"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_messages() {
        assert_eq!(
            registry_message(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#
            ),
            (
                Some("MANIFEST_UNKNOWN".to_owned()),
                "MANIFEST_UNKNOWN: manifest unknown".to_owned()
            )
        );
        assert_eq!(registry_message(b"  oops \n"), (None, "oops".to_owned()));
    }
}
