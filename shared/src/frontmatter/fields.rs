//! Checking each front matter field against its type and limits, with the
//! field and line in every refusal.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::{FrontMatter, Warning, MAX_ALIASES, MAX_TAGS, MAX_TITLE_LEN};
use crate::error::InputError;
use crate::post::{PostDate, Slug, Tag};

/// A front matter value before it is checked against its field's type.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Raw {
    Str(String),
    Bool(bool),
    Number(String),
    Date(String),
    List(Vec<Raw>),
    Null,
    Table,
}

#[derive(Clone)]
pub(super) struct Field {
    pub key: String,
    pub value: Raw,
    pub line: Option<usize>,
}

impl Raw {
    fn kind(&self) -> &'static str {
        match self {
            Raw::Str(_) => "text",
            Raw::Bool(_) => "a boolean",
            Raw::Number(_) => "a number",
            Raw::Date(_) => "a date",
            Raw::List(_) => "a list",
            Raw::Null => "empty",
            Raw::Table => "a table",
        }
    }
}

/// The keys this blog reads: its own, then other engines' names for the same fields
/// (Hugo's `lastmod`, Jekyll's `last_modified_at` and `categories`, Hugo's `url`,
/// Jekyll's `permalink`, Zola's `path`).
pub const KNOWN_KEYS: &[&str] = &[
    "title",
    "date",
    "updated",
    "published",
    "draft",
    "tags",
    "summary",
    "description",
    "slug",
    "aliases",
    "image",
    "lastmod",
    "last_modified_at",
    "categories",
    "category",
    "url",
    "permalink",
    "path",
];

impl FrontMatter {
    pub(super) fn from_fields(
        fields: &[Field],
        zone: Tz,
        warnings: &mut Vec<Warning>,
    ) -> Result<Self, InputError> {
        let fields = known_fields(fields, warnings);
        let get = |k: &str| fields.iter().find(|f| f.key == k);
        let first = |keys: &[&str]| keys.iter().find_map(|k| get(k));
        let title = match get("title") {
            Some(f) => title(f)?,
            None => {
                return Err(missing(
                    "title",
                    "the post's title, e.g. title: My first post",
                ))
            }
        };
        let date_written = get("date").and_then(written).unwrap_or_default();
        let date = match get("date") {
            Some(f) => date_field(f, zone)?,
            None => {
                return Err(missing(
                    "date",
                    "the publication date, e.g. date: 2024-05-01",
                ))
            }
        };
        let updated_field = first(&["updated", "lastmod", "last_modified_at"]);
        let updated = updated_field.map(|f| date_field(f, zone)).transpose()?;
        let updated_written = updated_field.and_then(written);
        let published = get("published").map(boolean).transpose()?;
        let draft = get("draft").map(boolean).transpose()?;
        let draft = match (published, draft) {
            (Some(p), Some(d)) if p == d => {
                let f = get("draft").map(|f| f.line).unwrap_or_default();
                return Err(InputError::field(
                    "draft",
                    f,
                    "contradicts \"published\": keep only one of them",
                ));
            }
            (_, Some(d)) => d,
            (Some(p), None) => !p,
            (None, None) => false,
        };
        let tags = tags(
            ["tags", "categories", "category"]
                .iter()
                .filter_map(|k| get(k)),
        )?;
        let categories = ["categories", "category"]
            .iter()
            .filter_map(|k| get(k))
            .filter_map(|f| list_of_text(f).ok())
            .flatten()
            .flat_map(|c| c.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        let summary = match (get("summary"), get("description")) {
            (Some(f), _) | (None, Some(f)) => optional_text(f)?,
            (None, None) => None,
        };
        let slug = get("slug").map(slug).transpose()?;
        let aliases = get("aliases").map(aliases).transpose()?.unwrap_or_default();
        let old_paths = ["url", "permalink", "path"]
            .iter()
            .filter_map(|k| get(k))
            .filter_map(|f| old_path(f, warnings))
            .collect();
        let image = get("image").map(image).transpose()?.flatten();
        Ok(Self {
            title,
            date,
            date_written,
            updated,
            updated_written,
            draft,
            tags,
            categories,
            summary,
            slug,
            aliases,
            old_paths,
            image,
        })
    }
}

/// The fields this blog reads, a key in another case read as its lowercase self;
/// every key it does not read is named in a warning, never dropped silently.
fn known_fields(fields: &[Field], warnings: &mut Vec<Warning>) -> Vec<Field> {
    let mut out = Vec::new();
    for f in fields {
        if KNOWN_KEYS.contains(&f.key.as_str()) {
            out.push(f.clone());
            continue;
        }
        let lower = f.key.to_lowercase();
        let exact_too = fields.iter().any(|g| g.key == lower);
        if KNOWN_KEYS.contains(&lower.as_str()) && !exact_too {
            warnings.push(Warning {
                line: f.line,
                message: format!("\"{}\" is read as \"{lower}\": keys are lowercase", f.key),
            });
            out.push(Field {
                key: lower,
                ..f.clone()
            });
        } else if KNOWN_KEYS.contains(&lower.as_str()) {
            warnings.push(Warning {
                line: f.line,
                message: format!(
                    "\"{}\" repeats \"{lower}\" in another case, so it is ignored",
                    f.key
                ),
            });
        } else {
            warnings.push(Warning {
                line: f.line,
                message: format!(
                    "\"{}\" is not a field this blog reads, so it is ignored (it reads: title, date, updated, draft, published, tags, summary, slug, aliases, image)",
                    f.key.escape_default()
                ),
            });
        }
    }
    out
}

/// An engine's address for the post (`url`, `permalink`, `path`), kept as an old
/// path that redirects to it; one that cannot be a path here is a warning.
fn old_path(f: &Field, warnings: &mut Vec<Warning>) -> Option<String> {
    let raw = match optional_text(f) {
        Ok(Some(raw)) => raw,
        // Empty: no address to keep.
        Ok(None) => return None,
        Err(_) => {
            warnings.push(Warning {
                line: f.line,
                message: format!("\"{}\" is not text, so it is ignored", f.key),
            });
            return None;
        }
    };
    let raw = if raw.starts_with('/') {
        raw
    } else {
        format!("/{raw}")
    };
    let mut skip = |why: String| {
        warnings.push(Warning {
            line: f.line,
            message: format!("\"{}\" {raw} is not kept as an old address: {why}", f.key),
        });
        None
    };
    if raw.contains("/:") {
        return skip("it has placeholders; give the pattern to blog import --old-urls".into());
    }
    match crate::urls::canonical_path(&raw) {
        Ok(path) => match crate::routes::reserved(&path) {
            Some(what) => skip(format!("it is {what} here")),
            None => Some(path),
        },
        Err(m) => skip(m),
    }
}

fn missing(field: &str, what: &str) -> InputError {
    InputError::field(field, None, format!("is missing: add {what}"))
}

fn wrong_type(f: &Field, expected: &str) -> InputError {
    InputError::field(
        &f.key,
        f.line,
        format!("must be {expected}, got {}", f.value.kind()),
    )
}

fn text(f: &Field) -> Result<String, InputError> {
    match &f.value {
        Raw::Str(s) => Ok(s.trim().to_owned()),
        Raw::Number(n) | Raw::Date(n) => Ok(n.clone()),
        _ => Err(wrong_type(f, "text")),
    }
}

fn optional_text(f: &Field) -> Result<Option<String>, InputError> {
    if f.value == Raw::Null {
        return Ok(None);
    }
    Ok(Some(text(f)?).filter(|s| !s.is_empty()))
}

fn title(f: &Field) -> Result<String, InputError> {
    let t = text(f)?;
    if t.is_empty() {
        return Err(InputError::field("title", f.line, "must not be empty"));
    }
    if t.chars().count() > MAX_TITLE_LEN {
        return Err(InputError::field(
            "title",
            f.line,
            format!(
                "is {} characters long; the limit is {MAX_TITLE_LEN}",
                t.chars().count()
            ),
        ));
    }
    Ok(t)
}

/// A date as the author wrote it (TOML's as it prints), to be written again unchanged.
fn written(f: &Field) -> Option<String> {
    match &f.value {
        Raw::Str(s) | Raw::Date(s) => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Accepts YYYY-MM-DD, RFC 3339, and "YYYY-MM-DD HH:MM[:SS]", as Flask blogs write
/// it; a date without an offset is read in the site's time zone `zone`.
fn date_field(f: &Field, zone: Tz) -> Result<PostDate, InputError> {
    let s = match &f.value {
        Raw::Str(s) | Raw::Date(s) => s.trim().to_owned(),
        _ => return Err(wrong_type(f, "a date such as 2024-05-01")),
    };
    let date = match parse_date_in(&s, zone) {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Err(InputError::field(
                &f.key,
                f.line,
                format!(
                    "must be YYYY-MM-DD, RFC 3339 (2024-05-01T09:30:00Z) or YYYY-MM-DD HH:MM:SS +HHMM, got \"{}\"",
                    s.escape_default()
                ),
            ))
        }
        Err(gap) => return Err(InputError::field(&f.key, f.line, gap)),
    };
    PostDate::new(date).map_err(|m| InputError::field(&f.key, f.line, m))
}

/// Parses the date forms front matter may use, reading one without an offset as UTC.
pub fn parse_date(s: &str) -> Option<DateTime<FixedOffset>> {
    parse_date_in(s, Tz::UTC).ok().flatten()
}

/// Parses the date forms front matter may use; one without an offset is read in
/// `zone` (an offset written in the date always wins). `Ok(None)`: not a date
/// form; `Err`: a local time the zone skips (a daylight saving gap), said plainly.
pub fn parse_date_in(s: &str, zone: Tz) -> Result<Option<DateTime<FixedOffset>>, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(d));
    }
    // Jekyll's documented form, `2018-05-19 10:30:00 -0500`, and its relatives.
    let offset = [
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M %z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ];
    if let Some(d) = offset
        .iter()
        .find_map(|fmt| DateTime::parse_from_str(s, fmt).ok())
    {
        return Ok(Some(d));
    }
    // A date alone is the start of that day: midnight, or in a zone whose clocks
    // skip midnight (a daylight saving change at 00:00), the first hour that exists.
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok((0..=3)
            .filter_map(|h| day.and_hms_opt(h, 0, 0))
            .find_map(|t| zone.from_local_datetime(&t).earliest())
            .map(|d| d.fixed_offset()));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok());
    let Some(naive) = naive else { return Ok(None) };
    // In a fold (the hour clocks repeat) the earlier instant is meant.
    match zone.from_local_datetime(&naive).earliest() {
        Some(d) => Ok(Some(d.fixed_offset())),
        None => Err(format!(
            "{naive} does not exist in the site's time zone {zone} (the clocks skip it): write another time, or an offset such as +01:00"
        )),
    }
}

/// YAML 1.1 booleans (what Flask-FlatPages' PyYAML reads), plus real booleans.
fn boolean(f: &Field) -> Result<bool, InputError> {
    let word = match &f.value {
        Raw::Bool(b) => return Ok(*b),
        Raw::Str(s) => s.trim().to_ascii_lowercase(),
        _ => return Err(wrong_type(f, "true or false")),
    };
    match word.as_str() {
        "true" | "yes" | "y" | "on" => Ok(true),
        "false" | "no" | "n" | "off" => Ok(false),
        _ => Err(InputError::field(
            &f.key,
            f.line,
            format!(
                "must be true or false (yes/no also work), got \"{}\"",
                word.escape_default()
            ),
        )),
    }
}

fn list_of_text(f: &Field) -> Result<Vec<String>, InputError> {
    match &f.value {
        Raw::Null => Ok(Vec::new()),
        Raw::Str(s) => Ok(s.split(',').map(str::to_owned).collect()),
        Raw::List(items) => items
            .iter()
            .map(|item| match item {
                Raw::Str(s) => Ok(s.clone()),
                Raw::Number(n) => Ok(n.clone()),
                other => Err(InputError::field(
                    &f.key,
                    f.line,
                    format!("must be a list of text, but one item is {}", other.kind()),
                )),
            })
            .collect(),
        _ => Err(wrong_type(f, "a list such as [rust, aws]")),
    }
}

/// Tags from `tags`, then `categories`/`category` (Jekyll and Hugo keep both; this
/// blog has one list), normalised and deduplicated.
fn tags<'a>(fields: impl Iterator<Item = &'a Field>) -> Result<Vec<Tag>, InputError> {
    let mut out: Vec<Tag> = Vec::new();
    let mut last = None;
    for f in fields {
        last = Some(f);
        let mut names = list_of_text(f)?;
        if f.key != "tags" && matches!(f.value, Raw::Str(_)) {
            // Jekyll: `categories: jekyll update` is two categories.
            names = names
                .iter()
                .flat_map(|n| n.split_whitespace())
                .map(str::to_owned)
                .collect();
        }
        for name in names {
            if name.trim().is_empty() {
                continue;
            }
            let tag = Tag::parse(&name).map_err(|e| InputError { line: f.line, ..e })?;
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    if out.len() > MAX_TAGS {
        let f = last.map(|f| f.line).unwrap_or_default();
        return Err(InputError::field(
            "tags",
            f,
            format!(
                "has {} tags (categories count too); the limit is {MAX_TAGS}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn slug(f: &Field) -> Result<Slug, InputError> {
    Slug::parse(&text(f)?).map_err(|e| InputError { line: f.line, ..e })
}

fn aliases(f: &Field) -> Result<Vec<String>, InputError> {
    let list = list_of_text(f)?;
    if list.len() > MAX_ALIASES {
        return Err(InputError::field(
            "aliases",
            f.line,
            format!("has {} entries; the limit is {MAX_ALIASES}", list.len()),
        ));
    }
    list.iter()
        .map(|a| {
            let path = crate::urls::canonical_path(a.trim())
                .map_err(|m| InputError::field("aliases", f.line, m))?;
            match crate::routes::reserved(&path) {
                Some(what) => Err(InputError::field(
                    "aliases",
                    f.line,
                    format!(
                        "entries must be old paths this site does not serve, but {path} is {what}"
                    ),
                )),
                None => Ok(path),
            }
        })
        .collect()
}

fn image(f: &Field) -> Result<Option<String>, InputError> {
    let Some(url) = optional_text(f)? else {
        return Ok(None);
    };
    let ok = (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with("https://")
        || url.starts_with("http://");
    if !ok || url.contains(['"', '<', '>', ' ']) {
        return Err(InputError::field(
            "image",
            f.line,
            format!(
                "must be an http(s) URL or a path starting with '/', got \"{}\"",
                url.escape_default()
            ),
        ));
    }
    Ok(Some(url))
}
