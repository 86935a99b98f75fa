//! Front matter in the three forms blogs keep it in: YAML between `---` lines, TOML
//! between `+++` lines, and Flask-FlatPages' header (YAML lines up to the first blank
//! line, no fences). Pure: text in, typed fields or an error with field and line out.

use crate::error::InputError;
use crate::post::{PostDate, Slug, Tag};

mod fields;

pub use chrono_tz::Tz;
pub use fields::{parse_date, parse_date_in};
use fields::{Field, Raw};

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
    /// The date as written: without an offset it means the site's time zone, so a
    /// header written again (an import) keeps it as it was, not as UTC.
    pub date_written: String,
    /// Optional last-edit date.
    pub updated: Option<PostDate>,
    /// The last-edit date as written.
    pub updated_written: Option<String>,
    /// From `draft: true` or `published: false`.
    pub draft: bool,
    /// Normalised, deduplicated tags (`categories` merged in).
    pub tags: Vec<Tag>,
    /// `categories`/`category` as written, in order: an engine's old URLs use them.
    pub categories: Vec<String>,
    /// From `summary` or `description`.
    pub summary: Option<String>,
    /// Explicit slug, if given.
    pub slug: Option<Slug>,
    /// Old paths that redirect to the post.
    pub aliases: Vec<String>,
    /// The post's address in the engine it came from (`url`, `permalink`, `path`):
    /// redirected like an alias, and left out where it is the post's own address.
    pub old_paths: Vec<String>,
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
    /// What was read differently from how it was written, or not read at all.
    pub warnings: Vec<Warning>,
}

/// Something in the front matter that was accepted but deserves the author's eye:
/// a key in another case, a key this blog does not read, an address not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line in the source file.
    pub line: Option<usize>,
    /// What was done, as a sentence.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.message)
    }
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

/// Splits `source` into front matter and body and validates every field, reading
/// dates without an offset as UTC.
pub fn parse(source: &str) -> Result<Document, InputError> {
    parse_in(source, Tz::UTC)
}

/// As [`parse`], reading dates without an offset in `zone`.
pub fn parse_in(source: &str, zone: Tz) -> Result<Document, InputError> {
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    let text = text.replace("\r\n", "\n");
    let (format, header, header_line, body) = split(&text)?;
    let fields = match format {
        Format::Toml => toml_fields(header, header_line)?,
        Format::Yaml | Format::FlatPages => yaml_fields(header, header_line)?,
    };
    let mut warnings = Vec::new();
    let front = FrontMatter::from_fields(&fields, zone, &mut warnings)?;
    Ok(Document {
        front,
        body: body.to_owned(),
        warnings,
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
        let header = &text[..end];
        if let Some(line) = flatpages_text_start(header) {
            return Err(InputError::document(
                Some(line),
                format!(
                    "the post's text starts here, inside the header: a header of 'key: value' lines ends at the first blank line, so add an empty line after line {}",
                    line - 1
                ),
            ));
        }
        let body = text[end..].strip_prefix('\n').unwrap_or(&text[end..]);
        return Ok((Format::FlatPages, header, 1, body));
    }
    Err(InputError::document(
        Some(1),
        format!(
            "no front matter: a post needs a title and a date. Paste this at the top of the file and fill in the date:\n{}",
            suggested_header(text)
        ),
    ))
}

/// Whether `source` starts with a header in one of the three forms (valid or not).
pub fn has_header(source: &str) -> bool {
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    let first = text.lines().next().unwrap_or("").trim_end();
    first == "---" || first == "+++" || looks_like_key(first)
}

/// A header to paste into a file that has none: the title from its first heading.
pub fn suggested_header(source: &str) -> String {
    let title = first_heading(source).unwrap_or_else(|| "The post's title".to_owned());
    let quoted = serde_json::to_string(&title).unwrap_or_default();
    format!("---\ntitle: {quoted}\ndate: YYYY-MM-DD\n---\n")
}

/// The text of the first `#` heading (any level), with its `#`s and closing `#`s gone.
pub fn first_heading(source: &str) -> Option<String> {
    let mut fences = crate::markdown::fences::Fences::default();
    source.lines().find_map(|line| {
        if fences.is_code(line) || line.starts_with("    ") {
            return None;
        }
        let t = line.trim_start();
        let rest = t.trim_start_matches('#');
        let level = t.len() - rest.len();
        ((1..=6).contains(&level) && rest.starts_with([' ', '\t']))
            .then(|| rest.trim().trim_end_matches('#').trim().to_owned())
            .filter(|h| !h.is_empty())
    })
}

/// The 1-based line where the text starts inside a Flask-FlatPages header that
/// has no blank line after it: the first line that is neither a field, nor a
/// field's continuation, nor a comment between fields. A `# Heading` would
/// otherwise be read as a YAML comment and vanish.
fn flatpages_text_start(header: &str) -> Option<usize> {
    let lines: Vec<&str> = header.lines().collect();
    lines.iter().enumerate().find_map(|(i, line)| {
        let continues = line.starts_with([' ', '\t']) || line.starts_with("- ");
        let comment = line.starts_with('#') && lines[i + 1..].iter().any(|l| looks_like_key(l));
        (!(looks_like_field(line) || continues || comment || line.trim().is_empty()))
            .then_some(i + 1)
    })
}

fn looks_like_key(line: &str) -> bool {
    let key_len = line
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    key_len > 0 && line[key_len..].trim_start().starts_with(':')
}

/// A YAML `key: value` line whose key may hold spaces (`PROJECT NAME: MY BLOG`).
fn looks_like_field(line: &str) -> bool {
    line.split_once(':').is_some_and(|(key, value)| {
        key.starts_with(|c: char| c.is_alphanumeric())
            && key
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
            && (value.is_empty() || value.starts_with([' ', '\t']))
    })
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
        // Zola keeps tags and categories under [taxonomies]; read them as the
        // top-level fields.
        if let (true, toml::Value::Table(taxonomies)) = (key == "taxonomies", &v) {
            for name in ["tags", "categories"] {
                if let Some(list) = taxonomies.get(name) {
                    fields.push(Field {
                        key: name.into(),
                        value: toml_raw(list.clone()),
                        line: key_line(header, first_line, name, '='),
                    });
                }
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

#[cfg(test)]
mod tests;
