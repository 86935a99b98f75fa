//! Post dates, limited to what every format the site writes can represent.

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Earliest and latest year a post date may have.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A date a post can carry: years 0001 to 9999, both in its own offset and in UTC.
/// That is what RFC 3339, RFC 2822 (feeds) and the four-digit sort key can all
/// represent, so a value of this type can never make a page fail to format it. It is
/// checked when built and when read back from storage (serde goes through
/// `try_from`): an item written by hand or by an older version that breaks the rule is
/// refused as corrupt, costing its pages a logged 5xx instead of a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "DateTime<FixedOffset>", into = "DateTime<FixedOffset>")]
pub struct PostDate(DateTime<FixedOffset>);

impl PostDate {
    /// Checks the year range; the error says the range.
    pub fn new(d: DateTime<FixedOffset>) -> Result<Self, String> {
        let utc = d.with_timezone(&Utc);
        if YEARS.contains(&d.year()) && YEARS.contains(&utc.year()) {
            Ok(Self(d))
        } else {
            Err(format!(
                "must be between the years {:04} and {} (in UTC too), got {}",
                YEARS.start(),
                YEARS.end(),
                d.to_rfc3339()
            ))
        }
    }

    /// The date with its offset.
    pub fn get(self) -> DateTime<FixedOffset> {
        self.0
    }

    /// The same instant in UTC.
    pub fn utc(self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// `2024-05-01T09:30:00+02:00`.
    pub fn rfc3339(self) -> String {
        self.0.to_rfc3339()
    }

    /// `Wed, 1 May 2024 09:30:00 +0200`, for RSS. chrono panics outside years 0 to
    /// 9999; the type rules that out.
    pub fn rfc2822(self) -> String {
        self.0.to_rfc2822()
    }
}

impl std::str::FromStr for PostDate {
    type Err = String;
    /// Parses RFC 3339 (`2024-05-01T09:30:00+02:00`) and checks the range.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("must be an RFC 3339 date such as 2024-05-01T09:30:00Z ({e})"))?;
        Self::new(d)
    }
}

impl TryFrom<DateTime<FixedOffset>> for PostDate {
    type Error = String;
    fn try_from(d: DateTime<FixedOffset>) -> Result<Self, Self::Error> {
        Self::new(d)
    }
}

impl From<PostDate> for DateTime<FixedOffset> {
    fn from(d: PostDate) -> Self {
        d.0
    }
}

impl PartialEq<DateTime<Utc>> for PostDate {
    fn eq(&self, other: &DateTime<Utc>) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<DateTime<Utc>> for PostDate {
    fn partial_cmp(&self, other: &DateTime<Utc>) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}
