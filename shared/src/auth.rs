//! The publish token: compared in constant time, never printed. Held by the
//! publish API; `Debug` and `Display` are redacted so it cannot reach a log line.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest token accepted: shorter ones could be guessed.
pub const MIN_TOKEN_LEN: usize = 24;

/// The secret a publish request must carry as `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct Token {
    /// SHA-256 of the token: comparing digests takes the same time whatever the
    /// length or content of the guess.
    digest: [u8; 32],
    secret: Box<str>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(redacted)")
    }
}

/// Why a configured token was refused (the message never contains the token).
#[derive(Debug, thiserror::Error)]
#[error("the publish token must be at least {MIN_TOKEN_LEN} characters of printable ASCII without spaces")]
pub struct WeakToken;

impl Token {
    /// A token from configuration (`BLOG_TOKEN`, the stack's SSM parameter).
    pub fn new(secret: &str) -> Result<Self, WeakToken> {
        let secret = secret.trim();
        if secret.len() < MIN_TOKEN_LEN || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(WeakToken);
        }
        Ok(Self {
            digest: Sha256::digest(secret.as_bytes()).into(),
            secret: secret.into(),
        })
    }

    /// A fresh random token (256 bits, hex), for a local server started without one.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self::new(&hex).unwrap_or_else(|_| unreachable!("64 hex digits are a valid token")))
    }

    /// The token itself, for the one place that must show it: the local server's
    /// start-up message to the author.
    pub fn reveal(&self) -> &str {
        &self.secret
    }

    /// Whether an `Authorization` header value carries this token.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, presented)) = split_once(value, b' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return false;
        }
        let presented = presented.trim_ascii();
        let digest: [u8; 32] = Sha256::digest(presented).into();
        digest.ct_eq(&self.digest).into()
    }
}

fn split_once(value: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = value.iter().position(|&b| b == sep)?;
    Some((&value[..at], &value[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-token-for-tests-0123456789";

    #[test]
    fn accepts_only_the_bearer_token() {
        let t = Token::new(SECRET).unwrap();
        assert!(t.accepts(Some(format!("Bearer {SECRET}").as_bytes())));
        assert!(t.accepts(Some(format!("bearer  {SECRET} ").as_bytes())));
        for bad in [
            String::new(),
            SECRET.to_owned(),
            format!("Basic {SECRET}"),
            format!("Bearer {SECRET}x"),
            format!("Bearer {}", &SECRET[1..]),
            "Bearer ".to_owned(),
        ] {
            assert!(!t.accepts(Some(bad.as_bytes())), "{bad}");
        }
        assert!(!t.accepts(None));
    }

    #[test]
    fn never_shows_itself_and_refuses_weak_tokens() {
        let t = Token::new(SECRET).unwrap();
        assert!(!format!("{t:?}").contains(SECRET));
        assert!(Token::new("short").is_err());
        assert!(Token::new("has a space in it but is long enough").is_err());
        let g = Token::generate().unwrap();
        assert_eq!(g.reveal().len(), 64);
        assert_ne!(g.reveal(), Token::generate().unwrap().reveal());
    }
}
