//! Raw HTML in a post: a short list of elements real posts use renders, through
//! ammonia; every other tag is escaped and shown as text, as before.
//!
//! Two steps, because Markdown splits inline HTML into one node per tag:
//! 1. in the tree, a tag whose element is not on [`RAW_ELEMENTS`] becomes text
//!    (inline) or has its `<` escaped (blocks), so it shows as written;
//! 2. the whole rendered page body goes through ammonia, which keeps only the
//!    elements and attributes listed here (comrak's own and the raw list), drops
//!    event handlers, `style`, comments and any URL scheme but http(s) and mailto.
//!
//! No `style` attribute passes and no script can: the pages' CSP stays as strict.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use comrak::nodes::{AstNode, NodeValue};

/// Elements a post may write as raw HTML, and the attributes each may carry.
/// Documented in the README ("Raw HTML"); anything else is shown as text.
pub const RAW_ELEMENTS: &[(&str, &[&str])] = &[
    ("img", &["src", "alt", "title", "width", "height"]),
    ("a", &["href", "title"]),
    ("figure", &[]),
    ("figcaption", &[]),
    ("br", &[]),
    ("sup", &[]),
    ("sub", &[]),
    ("details", &["open"]),
    ("summary", &[]),
    // No `autoplay`: media starts when the reader asks.
    (
        "video",
        &[
            "src",
            "poster",
            "controls",
            "width",
            "height",
            "loop",
            "muted",
            "playsinline",
            "preload",
        ],
    ),
    ("audio", &["src", "controls", "loop", "muted", "preload"]),
    ("source", &["src", "type"]),
];

/// What comrak itself writes (and the heading adapter and highlighter), with the
/// attributes it uses: kept when the page body is cleaned.
const RENDERED_ELEMENTS: &[(&str, &[&str])] = &[
    ("p", &[]),
    ("h1", &["id"]),
    ("h2", &["id"]),
    ("h3", &["id"]),
    ("h4", &["id"]),
    ("h5", &["id"]),
    ("h6", &["id"]),
    ("div", &["class"]),
    (
        "a",
        &[
            "class",
            "id",
            "aria-label",
            "data-footnote-ref",
            "data-footnote-backref",
            "data-footnote-backref-idx",
        ],
    ),
    ("em", &[]),
    ("strong", &[]),
    ("del", &[]),
    ("code", &["class"]),
    ("pre", &["class", "lang"]),
    ("span", &["class"]),
    ("blockquote", &[]),
    ("ul", &["class"]),
    ("ol", &["start", "class"]),
    ("li", &["id", "class"]),
    // `type` only as `checkbox` (see `sanitizer`).
    ("input", &["class", "checked", "disabled"]),
    ("table", &[]),
    ("thead", &[]),
    ("tbody", &[]),
    ("tr", &[]),
    ("th", &["align"]),
    ("td", &["align"]),
    ("hr", &[]),
    ("section", &["class", "data-footnotes"]),
    ("sup", &["class"]),
    ("img", &[]),
];

/// Whether the tree holds any raw HTML (most posts hold none and skip all this).
pub fn present<'a>(root: &'a AstNode<'a>) -> bool {
    root.descendants().any(|n| {
        matches!(
            n.data.borrow().value,
            NodeValue::HtmlInline(_) | NodeValue::HtmlBlock(_)
        )
    })
}

/// Step 1: every tag of an element not on the list becomes text.
pub fn escape_unlisted<'a>(root: &'a AstNode<'a>) {
    for node in root.descendants() {
        let mut data = node.data.borrow_mut();
        match &mut data.value {
            NodeValue::HtmlInline(literal)
                if !is_listed_tag(literal) && !literal.starts_with("<!--") =>
            {
                let text = std::mem::take(literal);
                data.value = NodeValue::Text(text.into());
            }
            NodeValue::HtmlBlock(block) => {
                block.literal = escape_unlisted_in(&block.literal);
            }
            _ => {}
        }
    }
}

/// The element a tag opens or closes (`<img …>`, `</sup>`), lowercased.
fn tag_name(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix('<')?;
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let name: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

fn is_listed_tag(tag: &str) -> bool {
    tag_name(tag).is_some_and(|name| RAW_ELEMENTS.iter().any(|(e, _)| *e == name))
}

/// An HTML block with the `<` of every unlisted tag (and of anything that is not
/// a tag or a comment) escaped.
fn escape_unlisted_in(block: &str) -> String {
    let mut out = String::with_capacity(block.len());
    let mut rest = block;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let at = &rest[i..];
        if at.starts_with("<!--") || is_listed_tag(at) {
            out.push('<');
        } else {
            out.push_str("&lt;");
        }
        rest = &at[1..];
    }
    out.push_str(rest);
    out
}

/// Step 2: the rendered body with only the listed elements, attributes and URL
/// schemes left.
pub fn clean(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (element, attrs) in RENDERED_ELEMENTS.iter().chain(RAW_ELEMENTS) {
            attributes
                .entry(element)
                .or_default()
                .extend(attrs.iter().copied());
        }
        let mut builder = ammonia::Builder::empty();
        builder
            .tags(attributes.keys().copied().collect())
            .tag_attributes(attributes)
            .tag_attribute_values(HashMap::from([(
                "input",
                HashMap::from([("type", HashSet::from(["checkbox"]))]),
            )]))
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(None)
            .strip_comments(true);
        builder
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_tags_in_a_block_show_as_text() {
        assert_eq!(
            escape_unlisted_in("<figure><img src=\"a.png\"><script>x</script></figure>"),
            "<figure><img src=\"a.png\">&lt;script>x&lt;/script></figure>"
        );
        assert_eq!(
            escape_unlisted_in("a < b <!-- c -->"),
            "a &lt; b <!-- c -->"
        );
    }
}
