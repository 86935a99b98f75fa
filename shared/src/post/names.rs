//! The names a post is found by: its slug and its tags, both normalised once.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// Longest slug accepted, in bytes; slugs end up in URLs and DynamoDB keys.
pub const MAX_SLUG_LEN: usize = 100;

/// A post's URL name: lowercase ASCII letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Validates a slug; the error says which rule was broken.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let problem = if s.is_empty() {
            Some("must not be empty".to_owned())
        } else if s.len() > MAX_SLUG_LEN {
            Some(format!(
                "is {} bytes long; the limit is {MAX_SLUG_LEN}",
                s.len()
            ))
        } else if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            Some(format!(
                "must use only a-z, 0-9 and '-', got \"{}\"",
                s.escape_default()
            ))
        } else if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            Some(format!(
                "must not start or end with '-' or repeat it, got \"{s}\""
            ))
        } else {
            None
        };
        match problem {
            Some(message) => Err(InputError::field("slug", None, message)),
            None => Ok(Self(s.to_owned())),
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

/// A tag, normalised so that "Rust", " rust " and "RUST" are one tag:
/// trimmed, lowercased, inner whitespace collapsed to one space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

/// Longest tag accepted, in characters.
pub const MAX_TAG_LEN: usize = 50;

impl Tag {
    /// Normalises and validates a tag name.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let normal = s
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if normal.is_empty() {
            return Err(InputError::field(
                "tags",
                None,
                "must not contain an empty tag",
            ));
        }
        if normal.chars().count() > MAX_TAG_LEN {
            return Err(InputError::field(
                "tags",
                None,
                format!("tag \"{normal}\" is longer than {MAX_TAG_LEN} characters"),
            ));
        }
        if normal.chars().any(|c| c == '/' || c.is_control()) {
            return Err(InputError::field(
                "tags",
                None,
                format!(
                    "tag \"{}\" must not contain '/' or control characters",
                    normal.escape_default()
                ),
            ));
        }
        Ok(Self(normal))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Site-relative URL of the tag's page, percent-encoded.
    pub fn path(&self) -> String {
        format!("/tags/{}/", crate::urls::encode_segment(&self.0))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Tag {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> Self {
        t.0
    }
}
