//! Authentication for the request layer: the `Authorization` header for a request's
//! scopes, the answer to a 401 challenge (Basic, or Bearer through the token service),
//! and token fetches deduplicated per scope. Credentials go only to the registry's own
//! origin, and to a token service that is https or on the registry's own plain-HTTP host.

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use url::Url;

use super::auth::{Challenge, Credential, parse_challenge};
use super::http::{AuthState, Transport, redact};
use super::retry::retryable_status;
use super::status::read_capped;
use super::wire::{WireBody, WireRequest};
use crate::error::{Error, Result};

/// Largest token-service response read.
const MAX_TOKEN_BYTES: u64 = 128 << 10;

impl Transport {
    /// The `Authorization` header for a request with these scopes, if we know how.
    pub(super) fn authorization(&self, scopes: &[String]) -> Result<Option<String>> {
        let challenge = self.lock().challenge.clone();
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => Ok(self.credential()?.and_then(Credential::basic_header)),
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let scopes = effective_scopes(scopes, scope.as_deref());
                let token = self.token_for(&realm, service.as_deref(), &scopes, None)?;
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, AuthState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handle a 401: remember the challenge and get a token. True when the request
    /// should be retried with new credentials.
    pub(super) fn on_challenge(
        &self,
        headers: &HeaderMap,
        scopes: &[String],
        sent_auth: bool,
    ) -> Result<bool> {
        let Some(ch) = headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_challenge)
        else {
            return Ok(false);
        };
        match &ch {
            Challenge::Basic => {
                // Retry only if this request went without the credentials (another
                // thread may have learnt the challenge meanwhile). The lookup (maybe a
                // credential helper) runs before the lock: other requests do not queue
                // behind it.
                let retry = !sent_auth
                    && self
                        .credential()?
                        .is_some_and(|c| c.basic_header().is_some());
                self.lock().challenge = Some(ch);
                Ok(retry)
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let scopes = effective_scopes(scopes, scope.as_deref());
                // A token we sent and the registry refused is stale: fetch a new one
                // (once, however many requests saw it refused).
                let stale = sent_auth
                    .then(|| self.lock().tokens.get(&scopes.join(" ")).cloned())
                    .flatten();
                self.token_for(realm, service.as_deref(), &scopes, stale.as_deref())?;
                self.lock().challenge = Some(ch);
                Ok(true)
            }
        }
    }

    /// The token for `scopes`: the cached one unless it is `stale`, else fetched. One
    /// fetch per scope at a time: requests that need the same token wait for the fetch
    /// in flight and take its result.
    fn token_for(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        stale: Option<&str>,
    ) -> Result<String> {
        let key = scopes.join(" ");
        let cached = |st: &AuthState| {
            st.tokens
                .get(&key)
                .filter(|t| Some(t.as_str()) != stale)
                .cloned()
        };
        let gate = {
            let mut st = self.lock();
            if let Some(t) = cached(&st) {
                return Ok(t);
            }
            Arc::clone(st.fetching.entry(key.clone()).or_default())
        };
        let _fetching = gate.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = cached(&self.lock()) {
            return Ok(t);
        }
        let token = self.fetch_token(realm, service, scopes)?;
        self.lock().tokens.insert(key, token.clone());
        Ok(token)
    }

    /// Get an access token from the token service. Credentials go only to an https
    /// realm or one on the registry's own host; anonymous otherwise.
    fn fetch_token(&self, realm: &str, service: Option<&str>, scopes: &[String]) -> Result<String> {
        let realm_url = Url::parse(realm).map_err(|_| {
            self.violation(format!(
                "token realm `{}` is not a URL",
                crate::sanitize(realm)
            ))
        })?;
        if !matches!(realm_url.scheme(), "http" | "https") {
            return Err(self.violation(format!(
                "token realm `{}` is not http(s)",
                redact(&realm_url)
            )));
        }
        // https, or plain HTTP on the registry's own host when the registry itself is
        // plain HTTP (never a downgrade from an https registry).
        let realm_trusted = realm_url.scheme() == "https"
            || (self.origin.scheme() == "http" && realm_url.host_str() == self.origin.host_str());
        if self.credential()?.is_some() && !realm_trusted {
            return Err(Error::Unauthorized {
                registry: self.registry.clone(),
                hint: Some(format!(
                    "the token service {} is plain HTTP (on another host, or for an https registry); refusing to send credentials there",
                    redact(&realm_url)
                )),
            });
        }
        let mut retrier = self.retrier();
        loop {
            let mut headers = HeaderMap::new();
            let (url, method, body) = match self.credential()? {
                Some(Credential::IdentityToken(rt)) => {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    form.append_pair("grant_type", "refresh_token")
                        .append_pair("refresh_token", rt)
                        .append_pair("client_id", "spectro");
                    if let Some(s) = service {
                        form.append_pair("service", s);
                    }
                    if !scopes.is_empty() {
                        form.append_pair("scope", &scopes.join(" "));
                    }
                    headers.insert(
                        reqwest::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    );
                    (
                        realm_url.clone(),
                        Method::POST,
                        WireBody::Bytes(form.finish().into()),
                    )
                }
                cred => {
                    let mut u = realm_url.clone();
                    {
                        let mut q = u.query_pairs_mut();
                        if let Some(s) = service {
                            q.append_pair("service", s);
                        }
                        for s in scopes {
                            q.append_pair("scope", s);
                        }
                        if let Some(Credential::Basic { username, .. }) = cred {
                            q.append_pair("account", username);
                        }
                    }
                    if let Some(h) = cred.as_ref().and_then(|c| c.basic_header()) {
                        let mut v = HeaderValue::from_str(&h).map_err(|_| {
                            self.err("the credentials hold characters HTTP cannot carry")
                        })?;
                        v.set_sensitive(true);
                        headers.insert(AUTHORIZATION, v);
                    }
                    (u, Method::GET, WireBody::Empty)
                }
            };
            let req = WireRequest {
                method,
                url,
                headers,
                body,
                timeout: self.timeouts.base,
            };
            let resp = match self.send_cancellable(req, None)? {
                Ok(r) => r,
                Err(e) => {
                    if self.backoff(&mut retrier, None, None)? {
                        continue;
                    }
                    return Err(self.err(format!("token service {}: {e}", redact(&realm_url))));
                }
            };
            let status = resp.status();
            if retryable_status(status) && self.backoff(&mut retrier, Some(resp.headers()), None)? {
                continue;
            }
            if matches!(status.as_u16(), 401 | 403) {
                return Err(Error::Unauthorized {
                    registry: self.registry.clone(),
                    hint: Some(if self.has_credential() {
                        "the token service rejected the credentials".into()
                    } else {
                        self.needs_credentials()
                    }),
                });
            }
            if !status.is_success() {
                return Err(self.err(format!(
                    "token service {}: HTTP {status}",
                    redact(&realm_url)
                )));
            }
            let body = read_capped(resp, MAX_TOKEN_BYTES)
                .map_err(|e| self.err(format!("token service {}: {e}", redact(&realm_url))))?;
            #[derive(serde::Deserialize)]
            struct Token {
                token: Option<String>,
                access_token: Option<String>,
            }
            let t: Token = serde_json::from_slice(&body).map_err(|_| {
                self.violation(format!(
                    "token service {}: reply is not a token",
                    redact(&realm_url)
                ))
            })?;
            return t
                .token
                .or(t.access_token)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    self.violation(format!(
                        "token service {}: reply has no token",
                        redact(&realm_url)
                    ))
                });
        }
    }

    /// What to say when the registry wants credentials and none were sent.
    pub(crate) fn needs_credentials(&self) -> String {
        let host = &self.origin[url::Position::BeforeHost..url::Position::AfterPort];
        let mut h = format!(
            "authentication required: log in to {host}, or set SPECTRO_REGISTRY_USERNAME and SPECTRO_REGISTRY_PASSWORD with SPECTRO_REGISTRY_HOST={host}"
        );
        if self
            .lookup
            .as_ref()
            .is_some_and(|(s, _)| s.environment_unbound())
        {
            h.push_str(
                " (SPECTRO_REGISTRY_USERNAME is set but bound to no host, so it was not sent)",
            );
        }
        h
    }
}

/// Scopes for a token: the request's own, else the challenge's.
fn effective_scopes(scopes: &[String], challenge_scope: Option<&str>) -> Vec<String> {
    if !scopes.is_empty() {
        return scopes.to_vec();
    }
    challenge_scope
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
