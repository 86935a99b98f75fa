//! Markdown to safe HTML, once, at publish: GitHub-flavoured extensions, heading ids
//! with anchor links, a table of contents, the summary, reading time and highlighting.
//! Raw HTML in the source is escaped (shown as text), never passed through, and
//! `javascript:`-style links are dropped by comrak's safe mode.

use comrak::nodes::{AstNode, NodeValue};
use comrak::options::Plugins;
use comrak::{Anchorizer, Arena, Options};

use crate::highlight::Highlighter;
use crate::post::TocEntry;

/// Words per minute used for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 220;
/// Longest plain-text description derived from the first paragraph, in characters.
const DESCRIPTION_LEN: usize = 200;

/// The outputs of rendering a post body.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The body as safe HTML.
    pub html: String,
    /// The part above `<!-- more -->`, or the first paragraph, as HTML.
    pub summary_html: String,
    /// Plain text of the summary, shortened, for meta descriptions.
    pub summary_text: String,
    /// Headings below h1, in document order.
    pub toc: Vec<TocEntry>,
    /// Estimated reading time, at least one minute.
    pub reading_minutes: u32,
}

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.strikethrough = true;
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.tasklist = true;
    o.extension.footnotes = true;
    o.extension.header_id_prefix = Some(String::new());
    // Raw HTML is shown as text; unsafe stays off so dangerous link schemes are dropped.
    o.render.escape = true;
    o.render.r#unsafe = false;
    o.render.github_pre_lang = false;
    o.render.tasklist_classes = true;
    o
}

/// Renders a post body. Pure and deterministic.
pub fn render(body: &str) -> Rendered {
    let (above_fold, below_fold) = split_more(body);
    let full: String;
    let source = match below_fold {
        Some(rest) => {
            full = format!("{above_fold}\n\n{rest}");
            full.as_str()
        }
        None => body,
    };
    let options = options();
    let arena = Arena::new();
    let root = comrak::parse_document(&arena, source, &options);
    let toc = table_of_contents(root);
    let html = to_html(root, &options);
    let (summary_html, summary_text) = match below_fold {
        Some(_) => {
            let arena = Arena::new();
            let summary_root = comrak::parse_document(&arena, above_fold, &options);
            let text = plain_text(summary_root);
            (to_html(summary_root, &options), text)
        }
        None => first_paragraph(root, &options),
    };
    Rendered {
        html,
        summary_html,
        summary_text: shorten(&summary_text, DESCRIPTION_LEN),
        toc,
        reading_minutes: reading_minutes(source),
    }
}

/// Splits at a `<!-- more -->` line (any spacing, any case).
fn split_more(body: &str) -> (&str, Option<&str>) {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        if let Some(inner) = t.strip_prefix("<!--").and_then(|r| r.strip_suffix("-->")) {
            if inner.trim().eq_ignore_ascii_case("more") {
                return (&body[..offset], Some(&body[offset + line.len()..]));
            }
        }
        offset += line.len();
    }
    (body, None)
}

fn to_html<'a>(root: &'a AstNode<'a>, options: &Options<'_>) -> String {
    let highlighter = Highlighter;
    let mut plugins = Plugins::default();
    plugins.render.codefence_syntax_highlighter = Some(&highlighter);
    let mut html = String::new();
    // Writing to a String cannot fail.
    let _ = comrak::format_html_with_plugins(root, options, &mut html, &plugins);
    obsolete_align_to_class(&html)
}

/// comrak writes `align="…"` on table cells, which HTML5 made obsolete; the
/// stylesheet styles these classes instead. Author text cannot forge the pattern
/// because its `<` is escaped.
fn obsolete_align_to_class(html: &str) -> String {
    if !html.contains(" align=\"") {
        return html.to_owned();
    }
    let mut out = html.to_owned();
    for tag in ["th", "td"] {
        for (align, class) in [("left", "al"), ("center", "ac"), ("right", "ar")] {
            out = out.replace(
                &format!("<{tag} align=\"{align}\""),
                &format!("<{tag} class=\"{class}\""),
            );
        }
    }
    out
}

/// The ids match comrak's: the same anchorizer over every heading, in order.
fn table_of_contents<'a>(root: &'a AstNode<'a>) -> Vec<TocEntry> {
    let mut anchorizer = Anchorizer::new();
    let mut toc = Vec::new();
    for node in root.descendants() {
        let level = match &node.data.borrow().value {
            NodeValue::Heading(h) => h.level,
            _ => continue,
        };
        let title = node.collect_text();
        let id = anchorizer.anchorize(&title);
        if level >= 2 {
            toc.push(TocEntry { level, id, title });
        }
    }
    toc
}

fn first_paragraph<'a>(root: &'a AstNode<'a>, options: &Options<'_>) -> (String, String) {
    let para = root
        .children()
        .find(|n| matches!(n.data.borrow().value, NodeValue::Paragraph));
    let Some(para) = para else {
        return (String::new(), String::new());
    };
    let mut html = String::new();
    let highlighter = Highlighter;
    let mut plugins = Plugins::default();
    plugins.render.codefence_syntax_highlighter = Some(&highlighter);
    // Footnote references inside the first paragraph would point nowhere in a listing.
    let _ = comrak::format_html_with_plugins(para, options, &mut html, &plugins);
    (strip_footnote_refs(&html), plain_text(para))
}

fn strip_footnote_refs(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<sup class=\"footnote-ref\">") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</sup>") {
            Some(end) => rest = &rest[start + end + "</sup>".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn plain_text<'a>(node: &'a AstNode<'a>) -> String {
    let mut text = String::new();
    for n in node.descendants() {
        match &n.data.borrow().value {
            NodeValue::Text(t) => text.push_str(t),
            NodeValue::Code(c) => text.push_str(&c.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => text.push(' '),
            NodeValue::Paragraph | NodeValue::Heading(_) if !text.is_empty() => text.push(' '),
            NodeValue::FootnoteReference(_) => {}
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts at a word boundary and adds an ellipsis when text is longer than `max` chars.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

fn reading_minutes(source: &str) -> u32 {
    let words = source.split_whitespace().count();
    u32::try_from(words.div_ceil(WORDS_PER_MINUTE).max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
