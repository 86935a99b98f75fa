//! Front matter in the three forms blogs keep it in: YAML between `---` lines, TOML
//! between `+++` lines, and Flask-FlatPages' header (YAML lines up to the first blank
//! line, no fences). Pure: text in, typed fields or an error with field and line out.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

use crate::error::InputError;
use crate::post::{PostDate, Slug, Tag};

/// Most tags one post may carry: each is a copy of the post in DynamoDB, written in
/// the same transaction, which must stay under 4 MB.
pub const MAX_TAGS: usize = 10;
/// Most aliases one post may carry.
pub const MAX_ALIASES: usize = 20;
/// Longest title accepted, in characters.
pub const MAX_TITLE_LEN: usize = 200;

/// The fields of a post's front matter, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    /// Required title.
    pub title: String,
    /// Required publication date.
    pub date: PostDate,
    /// Optional last-edit date.
    pub updated: Option<PostDate>,
    /// From `draft: true` or `published: false`.
    pub draft: bool,
    /// Normalised, deduplicated tags.
    pub tags: Vec<Tag>,
    /// From `summary` or `description`.
    pub summary: Option<String>,
    /// Explicit slug, if given.
    pub slug: Option<Slug>,
    /// Old paths that redirect to the post.
    pub aliases: Vec<String>,
    /// Social card image.
    pub image: Option<String>,
}

/// A source file split into front matter and Markdown body.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The parsed fields.
    pub front: FrontMatter,
    /// The Markdown after the front matter.
    pub body: String,
}

/// Which syntax the header was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `---` fenced YAML.
    Yaml,
    /// `+++` fenced TOML.
    Toml,
    /// Flask-FlatPages: YAML up to the first blank line.
    FlatPages,
}

/// A front matter value before it is checked against its field's type.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Str(String),
    Bool(bool),
    Number(String),
    Date(String),
    List(Vec<Raw>),
    Null,
    Table,
}

struct Field {
    key: String,
    value: Raw,
    line: Option<usize>,
}

/// Splits `source` into front matter and body and validates every field.
pub fn parse(source: &str) -> Result<Document, InputError> {
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    let text = text.replace("\r\n", "\n");
    let (format, header, header_line, body) = split(&text)?;
    let fields = match format {
        Format::Toml => toml_fields(header, header_line)?,
        Format::Yaml | Format::FlatPages => yaml_fields(header, header_line)?,
    };
    let front = FrontMatter::from_fields(&fields)?;
    Ok(Document {
        front,
        body: body.to_owned(),
    })
}

/// Finds the header: returns its format, its text, the file line it starts on and the body.
fn split(text: &str) -> Result<(Format, &str, usize, &str), InputError> {
    let first = text.lines().next().unwrap_or("");
    let fence = match first.trim_end() {
        "---" => Some((Format::Yaml, "---")),
        "+++" => Some((Format::Toml, "+++")),
        _ => None,
    };
    if let Some((format, fence)) = fence {
        let rest = &text[first.len()..];
        let rest = rest.strip_prefix('\n').unwrap_or(rest);
        let mut offset = 0;
        for line in rest.split_inclusive('\n') {
            let bare = line.trim_end();
            if bare == fence || (format == Format::Yaml && bare == "...") {
                let body = &rest[offset + line.len()..];
                return Ok((format, &rest[..offset], 2, body));
            }
            offset += line.len();
        }
        return Err(InputError::document(
            Some(1),
            format!("front matter opened with '{fence}' is never closed: add a '{fence}' line after the last field"),
        ));
    }
    if looks_like_key(first) {
        let end = text.find("\n\n").map(|i| i + 1).unwrap_or(text.len());
        let body = text[end..].strip_prefix('\n').unwrap_or(&text[end..]);
        return Ok((Format::FlatPages, &text[..end], 1, body));
    }
    Err(InputError::document(
        Some(1),
        "no front matter: start the file with a '---' line (YAML), a '+++' line (TOML), \
         or 'title: ...' lines followed by a blank line",
    ))
}

fn looks_like_key(line: &str) -> bool {
    let key_len = line
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    key_len > 0 && line[key_len..].trim_start().starts_with(':')
}

/// The file line where top-level `key` is set, found by its `key:`/`key =` prefix.
fn key_line(header: &str, first_line: usize, key: &str, sep: char) -> Option<usize> {
    header.lines().enumerate().find_map(|(i, line)| {
        let rest = line.strip_prefix(key)?;
        let rest = rest.trim_start_matches([' ', '\t']);
        let rest = rest.strip_prefix('"').map(|_| "").unwrap_or(rest);
        rest.starts_with(sep).then_some(first_line + i)
    })
}

fn yaml_fields(header: &str, first_line: usize) -> Result<Vec<Field>, InputError> {
    if header.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(header).map_err(|e| {
        let line = e.location().map(|l| first_line + l.line() - 1);
        InputError::document(
            line,
            format!(
                "front matter is not valid YAML: {}",
                strip_location(&e.to_string())
            ),
        )
    })?;
    let serde_yaml_ng::Value::Mapping(map) = value else {
        return Err(InputError::document(
            Some(first_line),
            "front matter must be 'key: value' lines",
        ));
    };
    map.into_iter()
        .map(|(k, v)| {
            let key = match k {
                serde_yaml_ng::Value::String(s) => s,
                other => yaml_scalar_text(&other).unwrap_or_default(),
            };
            let line = key_line(header, first_line, &key, ':');
            Ok(Field {
                key,
                value: yaml_raw(v),
                line,
            })
        })
        .collect()
}

fn strip_location(message: &str) -> String {
    // serde_yaml appends " at line X column Y"; the error carries the file line instead.
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn yaml_scalar_text(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn yaml_raw(v: serde_yaml_ng::Value) -> Raw {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Raw::Null,
        Y::Bool(b) => Raw::Bool(b),
        Y::Number(n) => Raw::Number(n.to_string()),
        Y::String(s) => Raw::Str(s),
        Y::Sequence(items) => Raw::List(items.into_iter().map(yaml_raw).collect()),
        Y::Mapping(_) => Raw::Table,
        Y::Tagged(t) => yaml_raw(t.value),
    }
}

fn toml_fields(header: &str, first_line: usize) -> Result<Vec<Field>, InputError> {
    let table: toml::Table = header.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| first_line + header[..s.start.min(header.len())].matches('\n').count());
        InputError::document(
            line,
            format!("front matter is not valid TOML: {}", e.message()),
        )
    })?;
    let mut fields: Vec<Field> = Vec::new();
    for (key, v) in table {
        // Zola keeps tags under [taxonomies]; read them as the top-level field.
        if let (true, toml::Value::Table(taxonomies)) = (key == "taxonomies", &v) {
            if let Some(tags) = taxonomies.get("tags") {
                let line = key_line(header, first_line, "tags", '=');
                fields.push(Field {
                    key: "tags".into(),
                    value: toml_raw(tags.clone()),
                    line,
                });
            }
            continue;
        }
        let line = key_line(header, first_line, &key, '=');
        fields.push(Field {
            key,
            value: toml_raw(v),
            line,
        });
    }
    Ok(fields)
}

fn toml_raw(v: toml::Value) -> Raw {
    use toml::Value as T;
    match v {
        T::String(s) => Raw::Str(s),
        T::Integer(i) => Raw::Number(i.to_string()),
        T::Float(f) => Raw::Number(f.to_string()),
        T::Boolean(b) => Raw::Bool(b),
        T::Datetime(d) => Raw::Date(d.to_string()),
        T::Array(items) => Raw::List(items.into_iter().map(toml_raw).collect()),
        T::Table(_) => Raw::Table,
    }
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

impl FrontMatter {
    fn from_fields(fields: &[Field]) -> Result<Self, InputError> {
        let get = |k: &str| fields.iter().find(|f| f.key == k);
        let title = match get("title") {
            Some(f) => title(f)?,
            None => {
                return Err(missing(
                    "title",
                    "the post's title, e.g. title: My first post",
                ))
            }
        };
        let date = match get("date") {
            Some(f) => date_field(f)?,
            None => {
                return Err(missing(
                    "date",
                    "the publication date, e.g. date: 2024-05-01",
                ))
            }
        };
        let updated = get("updated").map(date_field).transpose()?;
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
        let tags = get("tags").map(tags).transpose()?.unwrap_or_default();
        let summary = match (get("summary"), get("description")) {
            (Some(f), _) | (None, Some(f)) => optional_text(f)?,
            (None, None) => None,
        };
        let slug = get("slug").map(slug).transpose()?;
        let aliases = get("aliases").map(aliases).transpose()?.unwrap_or_default();
        let image = get("image").map(image).transpose()?.flatten();
        Ok(Self {
            title,
            date,
            updated,
            draft,
            tags,
            summary,
            slug,
            aliases,
            image,
        })
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

/// Accepts YYYY-MM-DD, RFC 3339, and "YYYY-MM-DD HH:MM[:SS]" (UTC), as Flask blogs write it.
fn date_field(f: &Field) -> Result<PostDate, InputError> {
    let s = match &f.value {
        Raw::Str(s) | Raw::Date(s) => s.trim().to_owned(),
        _ => return Err(wrong_type(f, "a date such as 2024-05-01")),
    };
    let date = parse_date(&s).ok_or_else(|| {
        InputError::field(
            &f.key,
            f.line,
            format!(
                "must be YYYY-MM-DD or RFC 3339 (2024-05-01T09:30:00Z), got \"{}\"",
                s.escape_default()
            ),
        )
    })?;
    PostDate::new(date).map_err(|m| InputError::field(&f.key, f.line, m))
}

/// Parses the date forms front matter may use.
pub fn parse_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let utc = FixedOffset::east_opt(0)?;
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0)?.and_local_timezone(utc).single();
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
    .and_then(|d| d.and_local_timezone(utc).single())
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

fn tags(f: &Field) -> Result<Vec<Tag>, InputError> {
    let mut out: Vec<Tag> = Vec::new();
    for name in list_of_text(f)? {
        if name.trim().is_empty() {
            continue;
        }
        let tag = Tag::parse(&name).map_err(|e| InputError { line: f.line, ..e })?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(InputError::field(
            "tags",
            f.line,
            format!("has {} tags; the limit is {MAX_TAGS}", out.len()),
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

#[cfg(test)]
mod tests;
