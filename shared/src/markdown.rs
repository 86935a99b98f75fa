//! Markdown to safe HTML, once, at publish: GitHub-flavoured extensions, heading ids
//! with anchor links, a table of contents, the summary, reading time and highlighting.
//! Raw HTML renders only for a short list of elements and attributes, through
//! ammonia (`raw_html`); every other tag is escaped (shown as text), and
//! `javascript:`-style links are dropped.

pub mod fences;
mod raw_html;

pub use raw_html::RAW_ELEMENTS;

use std::fmt::{self, Write as _};
use std::sync::Mutex;

use comrak::adapters::{HeadingAdapter, HeadingMeta};
use comrak::nodes::{AstNode, NodeValue, Sourcepos};
use comrak::options::Plugins;
use comrak::{Anchorizer, Arena, Options};

use crate::highlight::{escape, Highlighter};
use crate::images::{FromKeys, ImageSizes, SetKey, SOURCES};

/// How wide an image in a post is drawn: the column (`.wrap` in style.css, 42rem less
/// its padding), or the screen less that padding on narrower screens.
const IMAGE_SIZES: &str = "(max-width: 42rem) calc(100vw - 2.5rem), 39.5rem";
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
    // Raw HTML is shown as text; unsafe stays off so dangerous link schemes are dropped.
    o.render.escape = true;
    o.render.r#unsafe = false;
    o.render.github_pre_lang = false;
    o.render.tasklist_classes = true;
    o
}

/// Renders a post body, image sizes from asset keys only. Pure and deterministic.
pub fn render(body: &str) -> Rendered {
    render_with(body, &FromKeys)
}

/// Renders a post body, learning image sizes from `sizes`.
pub fn render_with(body: &str, sizes: &dyn ImageSizes) -> Rendered {
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
    let html = to_html(root, &options, sizes);
    let (summary_html, summary_text) = match below_fold {
        Some(_) => {
            let arena = Arena::new();
            let summary_root = comrak::parse_document(&arena, above_fold, &options);
            let text = plain_text(summary_root);
            (to_html(summary_root, &options, sizes), text)
        }
        None => first_paragraph(root, &options, sizes),
    };
    Rendered {
        html,
        summary_html,
        summary_text: crate::render::shorten(&summary_text, DESCRIPTION_LEN),
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

fn to_html<'a>(root: &'a AstNode<'a>, options: &Options<'_>, sizes: &dyn ImageSizes) -> String {
    let highlighter = Highlighter;
    let headings = Headings::default();
    let mut plugins = Plugins::default();
    plugins.render.codefence_syntax_highlighter = Some(&highlighter);
    plugins.render.heading_adapter = Some(&headings);
    let mut html = String::new();
    if raw_html::present(root) {
        // The listed elements render; the rest was made text; ammonia has the last word.
        raw_html::escape_unlisted(root);
        let mut options = options.clone();
        options.render.escape = false;
        options.render.r#unsafe = true;
        let _ = comrak::format_html_with_plugins(root, &options, &mut html, &plugins);
        html = raw_html::clean(&html);
    } else {
        // Writing to a String cannot fail.
        let _ = comrak::format_html_with_plugins(root, options, &mut html, &plugins);
    }
    finish(&html, sizes)
}

/// Headings with ids (the same anchorizer, in the same order, as the table of
/// contents) and a `#` link beside, not inside, each: inside, a screen reader reads
/// the heading's name twice. Headings never nest: one open id at a time.
#[derive(Default)]
struct Headings {
    ids: Mutex<(Anchorizer, Option<String>)>,
}

impl HeadingAdapter for Headings {
    fn enter(
        &self,
        out: &mut dyn fmt::Write,
        heading: &HeadingMeta,
        _: Option<Sourcepos>,
    ) -> fmt::Result {
        let mut ids = self.ids.lock().map_err(|_| fmt::Error)?;
        let id = ids.0.anchorize(&heading.content);
        write!(out, "<div class=\"hd\"><h{} id=\"", heading.level)?;
        escape(out, &id)?;
        out.write_str("\">")?;
        ids.1 = Some(id);
        Ok(())
    }

    fn exit(&self, out: &mut dyn fmt::Write, heading: &HeadingMeta) -> fmt::Result {
        let id = self
            .ids
            .lock()
            .map_err(|_| fmt::Error)?
            .1
            .take()
            .unwrap_or_default();
        write!(out, "</h{}><a class=\"anchor\" href=\"#", heading.level)?;
        escape(out, &id)?;
        out.write_str("\" aria-label=\"Link to the section “")?;
        escape(out, &heading.content)?;
        out.write_str("”\"></a></div>")
    }
}

/// What comrak's HTML lacks for readers and browsers, added to the tags comrak
/// itself wrote (author text cannot forge them: its `<` is escaped):
/// - images get `width`/`height` (no layout shift), `decoding="async"`, and
///   `loading="lazy"` after the first (which may be the largest paint);
/// - code blocks and tables, which scroll sideways, can take keyboard focus;
/// - task-list checkboxes get a name;
/// - a link whose destination safe mode dropped (`javascript:`) loses its empty
///   `href=""`, which would be a focusable link to the page itself;
/// - table cells' `align="…"`, which HTML5 made obsolete, becomes a class the
///   stylesheet styles.
fn finish(html: &str, sizes: &dyn ImageSizes) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    let mut images = 0;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("<img src=\"") {
            let end = after.find('"').unwrap_or(after.len());
            let src = unescape(&after[..end]);
            let set = SetKey::parse(&src);
            if let Some(set) = &set {
                out.push_str("<picture>");
                for (ext, mime) in SOURCES {
                    let _ = write!(
                        out,
                        "<source type=\"{mime}\" srcset=\"{}\" sizes=\"{IMAGE_SIZES}\">",
                        set.srcset(ext)
                    );
                }
            }
            out.push_str("<img src=\"");
            out.push_str(&after[..end]);
            out.push('"');
            if let Some(set) = &set {
                let _ = write!(
                    out,
                    " srcset=\"{}\" sizes=\"{IMAGE_SIZES}\"",
                    set.srcset(set.ext)
                );
            }
            // Raw HTML may size the image itself; an attribute twice is invalid.
            let tag = after[(end + 1).min(after.len())..]
                .split('>')
                .next()
                .unwrap_or("");
            let sized = tag.contains(" width=") || tag.contains(" height=");
            if let Some((w, h)) = sizes.size(&src).filter(|_| !sized) {
                let _ = write!(out, " width=\"{w}\" height=\"{h}\"");
            }
            if images > 0 {
                out.push_str(" loading=\"lazy\"");
            }
            out.push_str(" decoding=\"async\"");
            images += 1;
            rest = &after[(end + 1).min(after.len())..];
            if set.is_some() {
                // The rest of the tag (alt, title: escaped, so no `>` inside), then close.
                let tag_end = rest.find('>').map_or(rest.len(), |e| e + 1);
                out.push_str(&rest[..tag_end]);
                out.push_str("</picture>");
                rest = &rest[tag_end..];
            }
        } else if let Some(after) = rest.strip_prefix("<pre") {
            out.push_str("<pre tabindex=\"0\"");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("<table>") {
            out.push_str("<table tabindex=\"0\">");
            rest = after;
        } else if rest.starts_with("<input type=\"checkbox\"") {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = &rest[..end];
            let name = if tag.contains("checked=\"\"") {
                "Done"
            } else {
                "Not done"
            };
            let open = tag.trim_end_matches('>').trim_end_matches('/').trim_end();
            let _ = write!(out, "{open} aria-label=\"{name}\">");
            rest = &rest[end..];
        } else if let Some(after) = rest.strip_prefix("<a href=\"\"") {
            out.push_str("<a");
            rest = after;
        } else if let Some((cell, class, after)) = aligned_cell(rest) {
            let _ = write!(out, "<{cell} class=\"{class}\"");
            rest = after;
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Undoes the escaping comrak applies to URLs in attributes.
fn unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// A `<th align="…"` or `<td align="…"` at the start of `html`: the cell, the class
/// that replaces the obsolete attribute, and the rest after it.
fn aligned_cell(html: &str) -> Option<(&'static str, &'static str, &str)> {
    let (cell, value) = if let Some(rest) = html.strip_prefix("<th align=\"") {
        ("th", rest)
    } else {
        ("td", html.strip_prefix("<td align=\"")?)
    };
    [("left\"", "al"), ("center\"", "ac"), ("right\"", "ar")]
        .into_iter()
        .find_map(|(align, class)| Some((cell, class, value.strip_prefix(align)?)))
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

fn first_paragraph<'a>(
    root: &'a AstNode<'a>,
    options: &Options<'_>,
    sizes: &dyn ImageSizes,
) -> (String, String) {
    let para = root
        .children()
        .find(|n| matches!(n.data.borrow().value, NodeValue::Paragraph));
    let Some(para) = para else {
        return (String::new(), String::new());
    };
    // Footnote references inside the first paragraph would point nowhere in a listing.
    let html = to_html(para, options, sizes);
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

fn reading_minutes(source: &str) -> u32 {
    let words = source.split_whitespace().count();
    u32::try_from(words.div_ceil(WORDS_PER_MINUTE).max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
