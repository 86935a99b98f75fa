//! Server-side syntax highlighting for fenced code: syntect emits `<span class="hl-…">`
//! and the stylesheet colours the classes, so pages need no JavaScript and no inline
//! styles (which the CSP would block).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write};
use std::sync::OnceLock;

use comrak::adapters::SyntaxHighlighterAdapter;
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Class prefix, so highlight classes never collide with the site's own.
const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Longest code block highlighted; longer ones are shown plain so one huge paste
/// cannot make a publish slow.
const MAX_HIGHLIGHT_BYTES: usize = 64 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// comrak plugin: highlights when the fence names a known language, escapes otherwise.
#[derive(Debug, Default, Clone, Copy)]
pub struct Highlighter;

impl SyntaxHighlighterAdapter for Highlighter {
    fn write_highlighted(
        &self,
        out: &mut dyn Write,
        lang: Option<&str>,
        code: &str,
    ) -> fmt::Result {
        let set = syntaxes();
        let syntax = lang
            .filter(|_| code.len() <= MAX_HIGHLIGHT_BYTES)
            .and_then(|l| set.find_syntax_by_token(l));
        let Some(syntax) = syntax else {
            return escape(out, code);
        };
        let mut gen = ClassedHTMLGenerator::new_with_class_style(syntax, set, STYLE);
        for line in LinesWithEndings::from(code) {
            if gen
                .parse_html_for_line_which_includes_newline(line)
                .is_err()
            {
                return escape(out, code);
            }
        }
        out.write_str(&gen.finalize())
    }

    fn write_pre_tag(
        &self,
        out: &mut dyn Write,
        attrs: HashMap<&'static str, Cow<'_, str>>,
    ) -> fmt::Result {
        write_tag(out, "pre", &attrs)
    }

    fn write_code_tag(
        &self,
        out: &mut dyn Write,
        attrs: HashMap<&'static str, Cow<'_, str>>,
    ) -> fmt::Result {
        write_tag(out, "code", &attrs)
    }
}

fn write_tag(
    out: &mut dyn Write,
    name: &str,
    attrs: &HashMap<&'static str, Cow<'_, str>>,
) -> fmt::Result {
    write!(out, "<{name}")?;
    let mut keys: Vec<_> = attrs.keys().collect();
    keys.sort();
    for key in keys {
        write!(out, " {key}=\"")?;
        escape(out, &attrs[key])?;
        out.write_char('"')?;
    }
    out.write_char('>')
}

/// Escapes text for HTML content or a quoted attribute value.
pub(crate) fn escape(out: &mut dyn Write, s: &str) -> fmt::Result {
    for c in s.chars() {
        match c {
            '<' => out.write_str("&lt;")?,
            '>' => out.write_str("&gt;")?,
            '&' => out.write_str("&amp;")?,
            '"' => out.write_str("&quot;")?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}
