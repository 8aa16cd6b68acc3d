//! Listings: tags and the catalog, following `Link: rel="next"` pages on the same
//! origin only, with caps on pages, bytes and entries; tag → digest lookups fanned out on
//! a few threads of their own (network waits stay off the CPU pool).

use reqwest::Method;
use reqwest::header::LINK;
use serde_json::Value;
use url::Url;

use super::client::HttpStore;
use super::http::{Call, redact, same_origin};
use super::status::read_capped;
use super::wire::WireResponse;
use super::{MAX_LIST_BYTES, scope_pull};
use crate::error::Result;
use crate::registry::reference::is_tag;

/// Threads used for tag → digest lookups.
const LOOKUP_THREADS: usize = 8;

impl HttpStore {
    /// Follow `Link: <...>; rel="next"` pages (same origin only, at most
    /// `max_list_pages`, with at most `max_list_entries` names).
    fn paged(
        &self,
        first: Url,
        scopes: Vec<String>,
        key: &str,
    ) -> Result<std::result::Result<Vec<String>, WireResponse>> {
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > self.max_list_pages {
                return Err(self.t.violation(format!(
                    "{}: more than {} pages; stopping (the `list-pages` limit)",
                    redact(&url),
                    self.max_list_pages
                )));
            }
            let resp = self
                .t
                .send(&Call::new(Method::GET, url.clone(), scopes.clone()))?;
            if !resp.status().is_success() {
                return Ok(Err(resp));
            }
            if let Some(link) = resp.headers().get(LINK).and_then(|l| l.to_str().ok())
                && let Some(target) = next_link(link)
            {
                let n = url
                    .join(target)
                    .map_err(|e| self.t.violation(format!("bad Link header: {e}")))?;
                if !same_origin(&n, &self.t.origin) {
                    return Err(self.t.violation(format!(
                        "refusing pagination Link to another origin ({})",
                        redact(&n)
                    )));
                }
                next = Some(n);
            }
            let body = read_capped(resp, MAX_LIST_BYTES)
                .map_err(|e| self.t.err(format!("{}: {e}", redact(&url))))?;
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| self.t.violation(format!("{}: not JSON: {e}", redact(&url))))?;
            if let Some(items) = v.get(key).and_then(Value::as_array) {
                out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            if out.len() > self.max_list_entries {
                return Err(self.t.violation(format!(
                    "{}: more than {} entries; stopping (the `list-entries` limit)",
                    redact(&url),
                    self.max_list_entries
                )));
            }
        }
        Ok(Ok(out))
    }

    /// Tags of a repository; `None` when the repository does not exist.
    pub(super) fn list_tags(&self, repo: &str) -> Result<Option<Vec<String>>> {
        let url = self.t.url(&format!("/v2/{repo}/tags/list?n=1000"))?;
        match self.paged(url, scope_pull(repo), "tags")? {
            // Only well-formed tags go on into URLs (whatever they mean as versions).
            Ok(tags) => Ok(Some(tags.into_iter().filter(|t| is_tag(t)).collect())),
            Err(resp) if resp.status().as_u16() == 404 => Ok(None),
            Err(resp) => Err(self.t.status_error(&format!("list tags of {repo}"), resp)),
        }
    }

    /// Repositories in the catalog; `None` when the registry refuses to list it.
    pub(super) fn catalog(&self) -> Result<Option<Vec<String>>> {
        let url = self.t.url("/v2/_catalog?n=1000")?;
        match self.paged(url, vec!["registry:catalog:*".into()], "repositories")? {
            Ok(repos) => Ok(Some(repos)),
            // Without credentials a 401 means "log in", not "no catalog here".
            Err(resp) if resp.status().as_u16() == 401 && !self.t.has_credential() => {
                Err(self.t.status_error("list the catalog", resp))
            }
            // With credentials, wrong ones fail `/v2/` too (reported as such); right ones
            // mean only the catalog is refused.
            Err(resp) if resp.status().as_u16() == 401 => {
                self.ping()?;
                Ok(None)
            }
            Err(resp) if (403..=405).contains(&resp.status().as_u16()) => Ok(None),
            Err(resp) => Err(self.t.status_error("list the catalog", resp)),
        }
    }

    /// Tag → digest for each tag (HEAD requests, at most [`LOOKUP_THREADS`] at once).
    pub(super) fn digests_of(&self, repo: &str, tags: &[String]) -> Result<Vec<(String, String)>> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let per = tags.len().div_ceil(LOOKUP_THREADS);
        let found: Vec<Result<Vec<(String, String)>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = tags
                .chunks(per)
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(chunk.len());
                        for t in chunk {
                            if let Some(d) = self.manifest_digest(repo, t)? {
                                out.push((t.clone(), d));
                            }
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(self.t.err("a tag lookup thread panicked")))
                })
                .collect()
        });
        let mut out = Vec::with_capacity(tags.len());
        for f in found {
            out.extend(f?);
        }
        Ok(out)
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then_some(target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://x/a>; rel="prev", </b>; rel=next"#),
            Some("/b")
        );
        assert_eq!(next_link("garbage"), None);
    }
}
