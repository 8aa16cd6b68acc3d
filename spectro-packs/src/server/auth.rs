//! Who may read and who may push: an htpasswd file with bcrypt hashes (what
//! `htpasswd -B` writes), HTTP Basic challenges, and a per-client brake on failed logins.
//!
//! Each line is `user:$2y$...`; an optional third field marks a read-only user:
//! `user:$2y$...:pull`. A line without it (or with `:push`) may push. Blank lines and
//! lines starting with `#` are ignored. Any other hash scheme (MD5 `$apr1$`, SHA1, crypt,
//! plain) is refused when the file is loaded, not silently never matched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Pull only.
    Pull,
    /// Pull and push (and delete).
    Push,
}

#[derive(Debug)]
struct User {
    hash: String,
    access: Access,
}

/// A bcrypt hash of nothing anyone knows, checked for unknown users (cost 10, a common
/// `htpasswd -B` default).
const DUMMY_HASH: &str = "$2y$10$24bNmuXV44qlw8NFSVu.wO0ipuTfVPEWWstLbl6sNounFSGrcVYi2";

/// The address failed logins are counted against: an IPv6 client controls its whole /64,
/// so that is one client.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Largest htpasswd file read.
const MAX_HTPASSWD: u64 = 1 << 20;
/// Failed logins a client may make within [`WINDOW`] before it is refused outright.
const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(60);
/// How long a verified password is remembered (bcrypt costs milliseconds a request).
const CACHE_FOR: Duration = Duration::from_secs(300);
/// Most clients and cached logins remembered (the oldest are forgotten first).
const MAX_TRACKED: usize = 10_000;

/// Users from an htpasswd file, with the failed-login brake and a cache of verified
/// logins (keyed by a hash of user and password, never the password itself).
#[derive(Debug)]
pub struct Htpasswd {
    users: HashMap<String, User>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
}

/// The outcome of checking a request's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// No `Authorization` header.
    Anonymous,
    /// Valid credentials.
    User {
        /// Who.
        name: String,
        /// What they may do.
        access: Access,
    },
    /// Wrong user, password or header.
    Failed,
    /// The client failed too often recently; it is not even checked.
    Throttled,
}

impl Htpasswd {
    /// Read and check an htpasswd file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::safety::read_regular_capped(path, MAX_HTPASSWD)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::InvalidReference {
            input: path.display().to_string(),
            reason: "the htpasswd file is not UTF-8".into(),
        })?;
        Self::parse(&text).map_err(|(line, reason)| Error::InvalidReference {
            input: format!("{}:{line}", path.display()),
            reason,
        })
    }

    /// Parse htpasswd text; errors carry the 1-based line.
    pub fn parse(text: &str) -> std::result::Result<Self, (usize, String)> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut f = line.splitn(3, ':');
            let (Some(name), Some(hash)) = (f.next(), f.next()) else {
                return Err((i + 1, "expected `user:bcrypt-hash[:pull|:push]`".into()));
            };
            if name.is_empty() {
                return Err((i + 1, "empty user name".into()));
            }
            if !(hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$")) {
                return Err((
                    i + 1,
                    format!(
                        "user `{}`: only bcrypt hashes are accepted (`htpasswd -B`)",
                        crate::sanitize(name)
                    ),
                ));
            }
            // `htpasswd -B` writes costs 4 to 17; a higher one would make every login of
            // that user take minutes (bcrypt doubles per step).
            let cost: Option<u32> = hash.get(4..6).and_then(|c| c.parse().ok());
            if !cost.is_some_and(|c| (4..=17).contains(&c)) {
                return Err((
                    i + 1,
                    format!(
                        "user `{}`: bcrypt cost must be 4 to 17",
                        crate::sanitize(name)
                    ),
                ));
            }
            let access = match f.next() {
                None | Some("push") => Access::Push,
                Some("pull") => Access::Pull,
                Some(other) => {
                    return Err((
                        i + 1,
                        format!("unknown access `{}` (pull or push)", crate::sanitize(other)),
                    ));
                }
            };
            if users
                .insert(
                    name.to_owned(),
                    User {
                        hash: hash.to_owned(),
                        access,
                    },
                )
                .is_some()
            {
                return Err((
                    i + 1,
                    format!("user `{}` listed twice", crate::sanitize(name)),
                ));
            }
        }
        Ok(Htpasswd {
            users,
            failures: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the file lists nobody.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Check an `Authorization` header value from `client`. Blocking: bcrypt runs here.
    pub fn check(&self, client: IpAddr, header: Option<&[u8]>) -> Login {
        let Some(header) = header else {
            return Login::Anonymous;
        };
        let client = client_key(client);
        if self.throttled(client) {
            return Login::Throttled;
        }
        let result = self.verify(header);
        match &result {
            Login::Failed => self.record_failure(client),
            Login::User { .. } => {
                if let Ok(mut f) = self.failures.lock() {
                    f.remove(&client);
                }
            }
            _ => {}
        }
        result
    }

    fn verify(&self, header: &[u8]) -> Login {
        let Some(encoded) = header
            .strip_prefix(b"Basic ")
            .or_else(|| header.strip_prefix(b"basic "))
        else {
            return Login::Failed;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii())
        else {
            return Login::Failed;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return Login::Failed;
        };
        let Some((name, password)) = text.split_once(':') else {
            return Login::Failed;
        };
        let Some(user) = self.users.get(name) else {
            // As slow as a wrong password, so timing does not tell which users exist.
            let _ = bcrypt::verify(password, DUMMY_HASH);
            return Login::Failed;
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .chain_update([0])
            .chain_update(user.hash.as_bytes())
            .finalize()
            .into();
        let now = Instant::now();
        let cached = self
            .verified
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .is_some_and(|t| now.duration_since(t) < CACHE_FOR);
        if !cached {
            if !bcrypt::verify(password, &user.hash).unwrap_or(false) {
                return Login::Failed;
            }
            if let Ok(mut m) = self.verified.lock() {
                if m.len() >= MAX_TRACKED {
                    m.retain(|_, t| now.duration_since(*t) < CACHE_FOR);
                    if m.len() >= MAX_TRACKED {
                        m.clear();
                    }
                }
                m.insert(key, now);
            }
        }
        Login::User {
            name: name.to_owned(),
            access: user.access,
        }
    }

    fn throttled(&self, client: IpAddr) -> bool {
        let Ok(mut f) = self.failures.lock() else {
            return true;
        };
        match f.get(&client) {
            Some((n, since)) if since.elapsed() < WINDOW => *n >= MAX_FAILURES,
            Some(_) => {
                f.remove(&client);
                false
            }
            None => false,
        }
    }

    fn record_failure(&self, client: IpAddr) {
        let Ok(mut f) = self.failures.lock() else {
            return;
        };
        if f.len() >= MAX_TRACKED && !f.contains_key(&client) {
            f.retain(|_, (_, since)| since.elapsed() < WINDOW);
            if f.len() >= MAX_TRACKED {
                return;
            }
        }
        let e = f.entry(client).or_insert((0, Instant::now()));
        if e.1.elapsed() >= WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn basic(user: &str, pass: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
        .into_bytes()
    }

    #[test]
    fn bcrypt_users_and_their_access() {
        let h = bcrypt::hash("s3cret", 4).unwrap();
        let text = format!("# users\nalice:{h}\nbob:{h}:pull\n\n");
        let pw = Htpasswd::parse(&text).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(
            pw.check(ip, Some(&basic("alice", "s3cret"))),
            Login::User {
                name: "alice".into(),
                access: Access::Push
            }
        );
        assert_eq!(
            pw.check(ip, Some(&basic("bob", "s3cret"))),
            Login::User {
                name: "bob".into(),
                access: Access::Pull
            }
        );
        assert_eq!(pw.check(ip, Some(&basic("bob", "wrong"))), Login::Failed);
        assert_eq!(pw.check(ip, Some(b"Bearer x")), Login::Failed);
        assert_eq!(pw.check(ip, None), Login::Anonymous);
    }

    #[test]
    fn refuses_weak_hashes_and_bad_lines() {
        assert_eq!(Htpasswd::parse("a:$apr1$x$y").err().map(|e| e.0), Some(1));
        assert_eq!(
            Htpasswd::parse("\nplain:secret").err().map(|e| e.0),
            Some(2)
        );
        assert!(Htpasswd::parse("a:$2y$05$abc:admin").is_err());
        assert!(Htpasswd::parse("a:$2y$05$abc\na:$2y$05$abd").is_err());
        assert!(Htpasswd::parse("nocolon").is_err());
        // A cost that would make each login take hours.
        assert!(
            Htpasswd::parse("a:$2y$31$abcdefghijklmnopqrstuu5Ue5sRBVqoJEbA7cgW4h2rP3rGBJS")
                .is_err()
        );
    }

    #[test]
    fn failed_logins_are_throttled_per_client() {
        let h = bcrypt::hash("pw", 4).unwrap();
        let pw = Htpasswd::parse(&format!("u:{h}")).unwrap();
        let bad = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let good = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
        for _ in 0..MAX_FAILURES {
            assert_eq!(pw.check(bad, Some(&basic("u", "no"))), Login::Failed);
        }
        // Even the right password is not checked any more from that client...
        assert_eq!(pw.check(bad, Some(&basic("u", "pw"))), Login::Throttled);
        // ...while other clients are unaffected.
        assert!(matches!(
            pw.check(good, Some(&basic("u", "pw"))),
            Login::User { .. }
        ));
    }
}
