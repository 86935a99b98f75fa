//! Turns a Markdown source file into a stored [`Post`]: front matter checked, body
//! rendered once. This is the publish path; read paths never call it.

use crate::error::InputError;
use crate::frontmatter;
use crate::markdown;
use crate::post::{Post, Slug};

/// Longest source accepted, in bytes. DynamoDB items stop at 400 KB and a post is
/// stored with its rendered HTML, so the source must leave room for it.
pub const MAX_SOURCE_BYTES: usize = 128 * 1024;

/// Parses and renders `source`. `file_stem` (the file name without `.md`) gives the
/// slug when the front matter has none; an old name that is not a valid slug is kept
/// as an alias so links to it still work.
pub fn compile(source: &str, file_stem: Option<&str>) -> Result<Post, InputError> {
    compile_in(source, file_stem, frontmatter::Tz::UTC)
}

/// As [`compile`], reading dates without an offset in the site's time zone `zone`.
pub fn compile_in(
    source: &str,
    file_stem: Option<&str>,
    zone: frontmatter::Tz,
) -> Result<Post, InputError> {
    compile_with(source, file_stem, zone, &crate::images::FromKeys)
}

/// As [`compile_in`], learning the sizes of the post's images from `sizes`.
pub fn compile_with(
    source: &str,
    file_stem: Option<&str>,
    zone: frontmatter::Tz,
    sizes: &dyn crate::images::ImageSizes,
) -> Result<Post, InputError> {
    compile_reporting(source, file_stem, zone, sizes).map(|(post, _)| post)
}

/// A source read and checked but not rendered: what publishing it would store
/// besides the HTML. `blog import` plans with it; [`compile_reporting`] renders it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The header's fields.
    pub front: frontmatter::FrontMatter,
    /// The slug: the header's, the file's name, or one made from the title.
    pub slug: Slug,
    /// The header's aliases, the file's old name when it was no slug, and the old
    /// engine's address (`url`, `permalink`, `path`) unless it is the post's own.
    pub aliases: Vec<String>,
    /// The Markdown after the header.
    pub body: String,
    /// Keys in another case, keys this blog does not read, addresses not kept.
    pub warnings: Vec<frontmatter::Warning>,
}

/// Checks `source` (size, characters, front matter) and decides its slug and
/// aliases, without rendering it.
pub fn check(
    source: &str,
    file_stem: Option<&str>,
    zone: frontmatter::Tz,
) -> Result<Checked, InputError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(InputError::document(
            None,
            format!(
                "is {} bytes; the limit is {MAX_SOURCE_BYTES} bytes",
                source.len()
            ),
        ));
    }
    if let Some((line, c)) = first_non_xml_char(source) {
        return Err(InputError::document(
            Some(line),
            format!(
                "contains the control character U+{:04X}, which feeds (XML 1.0) cannot carry: remove it",
                u32::from(c)
            ),
        ));
    }
    let doc = frontmatter::parse_in(source, zone)?;
    let front = doc.front;
    let mut aliases = front.aliases.clone();
    let slug = match (&front.slug, file_stem) {
        (Some(slug), _) => slug.clone(),
        (None, Some(stem)) => match Slug::parse(stem) {
            Ok(slug) => slug,
            Err(_) => {
                let slug = slugify(stem, "file name")?;
                let old = format!("/posts/{}/", crate::urls::encode_segment(stem));
                if !aliases.contains(&old) {
                    aliases.push(old);
                }
                slug
            }
        },
        (None, None) => slugify(&front.title, "title")?,
    };
    let own = crate::post::post_path(&slug);
    if aliases.contains(&own) {
        return Err(InputError::field(
            "aliases",
            None,
            format!("must not list the post's own address {own}"),
        ));
    }
    // An engine's own address for the post may well be this site's address for it.
    for old in &front.old_paths {
        if *old != own && !aliases.contains(old) && aliases.len() < frontmatter::MAX_ALIASES {
            aliases.push(old.clone());
        }
    }
    Ok(Checked {
        front,
        slug,
        aliases,
        body: doc.body,
        warnings: doc.warnings,
    })
}

/// As [`compile_with`], with the front matter's warnings (keys in another case,
/// keys this blog does not read, old addresses not kept) for the author to see.
pub fn compile_reporting(
    source: &str,
    file_stem: Option<&str>,
    zone: frontmatter::Tz,
    sizes: &dyn crate::images::ImageSizes,
) -> Result<(Post, Vec<frontmatter::Warning>), InputError> {
    let Checked {
        front,
        slug,
        aliases,
        body,
        warnings,
    } = check(source, file_stem, zone)?;
    let rendered = markdown::render_with(&body, sizes);
    let description_from_body = front.summary.is_none();
    let description = front.summary.unwrap_or(rendered.summary_text);
    let post = Post {
        slug,
        title: front.title,
        date: front.date,
        updated: front.updated,
        draft: front.draft,
        tags: front.tags,
        description,
        aliases,
        image: front.image,
        markdown: body,
        html: rendered.html,
        summary_html: rendered.summary_html,
        toc: rendered.toc,
        reading_minutes: rendered.reading_minutes,
        renderer: crate::version::RENDERER.to_owned(),
        description_from_body,
        previous: None,
        next: None,
    };
    Ok((post, warnings))
}

/// `post` rendered again from its stored Markdown by this build's renderer: what
/// publishing its source again would store, links and every other field kept.
pub fn rerender(post: &Post) -> Post {
    let rendered = markdown::render(&post.markdown);
    // Posts stored before the flag existed say `false`; a description equal to
    // the body's own summary was taken from it.
    let from_body = post.description_from_body || post.description == rendered.summary_text;
    Post {
        html: rendered.html,
        summary_html: rendered.summary_html,
        toc: rendered.toc,
        reading_minutes: rendered.reading_minutes,
        description: if from_body {
            rendered.summary_text
        } else {
            post.description.clone()
        },
        description_from_body: from_body,
        renderer: crate::version::RENDERER.to_owned(),
        ..post.clone()
    }
}

/// The first character XML 1.0 does not allow (C0 controls other than tab, line
/// feed and carriage return; U+FFFE, U+FFFF), with its 1-based line: every field and
/// the body reach the Atom and RSS feeds, where one such character makes the whole
/// feed unreadable.
fn first_non_xml_char(source: &str) -> Option<(usize, char)> {
    source.lines().enumerate().find_map(|(i, line)| {
        line.chars()
            .find(|&c| {
                (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
                    || matches!(c, '\u{FFFE}' | '\u{FFFF}')
            })
            .map(|c| (i + 1, c))
    })
}

/// A source file's name without `.md` or `.markdown`: what gives the slug.
pub fn source_stem(name: &str) -> &str {
    name.strip_suffix(".md")
        .or_else(|| name.strip_suffix(".markdown"))
        .unwrap_or(name)
}

/// The fields of a header this blog writes, in its order.
#[derive(serde::Serialize)]
struct Header<'a> {
    title: &'a str,
    slug: &'a str,
    date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    draft: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
}

impl Header<'_> {
    fn with_body(&self, body: &str) -> String {
        // Serialising plain strings, lists and booleans cannot fail.
        let yaml = serde_yaml_ng::to_string(self).unwrap_or_default();
        format!("---\n{yaml}---\n{body}")
    }
}

/// The post as a source file: YAML front matter with every field, then the
/// Markdown body. `compile` reads it back as the same post; the API shows it and
/// the filesystem store writes it when the author's own text cannot be kept (a rename).
pub fn to_source(post: &Post) -> String {
    Header {
        title: &post.title,
        slug: post.slug.as_str(),
        date: post.date.rfc3339(),
        updated: post.updated.map(crate::post::PostDate::rfc3339),
        draft: post.draft,
        tags: post.tags.iter().map(|t| t.as_str()).collect(),
        // A description taken from the body is left to be taken again.
        summary: (!post.description_from_body).then_some(post.description.as_str()),
        aliases: &post.aliases,
        image: post.image.as_deref(),
    }
    .with_body(&post.markdown)
}

/// A source in this blog's own header, from another engine's front matter: the
/// fields it read (dates as written, so one without an offset still means the
/// site's time zone), the slug and aliases decided for it, and `body`.
pub fn rewrite_source(
    front: &frontmatter::FrontMatter,
    slug: &Slug,
    aliases: &[String],
    body: &str,
) -> String {
    Header {
        title: &front.title,
        slug: slug.as_str(),
        date: front.date_written.clone(),
        updated: front.updated_written.clone(),
        draft: front.draft,
        tags: front.tags.iter().map(|t| t.as_str()).collect(),
        summary: front.summary.as_deref(),
        aliases,
        image: front.image.as_deref(),
    }
    .with_body(body)
}

/// A slug made from free text ("Hello, Wörld!" → "hello-world"), cut at a hyphen
/// to the length limit.
pub fn slugify(text: &str, from: &str) -> Result<Slug, InputError> {
    let mut s = slug::slugify(text);
    if s.len() > crate::post::MAX_SLUG_LEN {
        s.truncate(crate::post::MAX_SLUG_LEN);
        s = s.trim_end_matches('-').to_owned();
    }
    Slug::parse(&s).map_err(|_| {
        InputError::field(
            "slug",
            None,
            format!(
                "cannot be made from the {from} \"{text}\": add a slug field such as slug: my-post"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_comes_from_front_matter_then_file_then_title() {
        let src = "---\ntitle: Hello, Wörld!\ndate: 2024-01-01\n---\nHi\n";
        assert_eq!(compile(src, None).unwrap().slug.as_str(), "hello-world");
        assert_eq!(
            compile(src, Some("from-file")).unwrap().slug.as_str(),
            "from-file"
        );
        let with = "---\ntitle: T\ndate: 2024-01-01\nslug: given\n---\n";
        assert_eq!(
            compile(with, Some("from-file")).unwrap().slug.as_str(),
            "given"
        );
    }

    #[test]
    fn a_file_name_that_is_not_a_slug_becomes_an_alias() {
        let post = compile("title: T\ndate: 2024-01-01\n\nx", Some("My_Old Post")).unwrap();
        assert_eq!(post.slug.as_str(), "my-old-post");
        assert_eq!(post.aliases, vec!["/posts/My_Old%20Post/"]);
    }

    #[test]
    fn description_prefers_front_matter() {
        let post = compile(
            "---\ntitle: T\ndate: 2024-01-01\nsummary: Given.\n---\nFirst para.\n",
            None,
        )
        .unwrap();
        assert_eq!(post.description, "Given.");
        let post = compile("---\ntitle: T\ndate: 2024-01-01\n---\nFirst para.\n", None).unwrap();
        assert_eq!(post.description, "First para.");
    }

    #[test]
    fn to_source_reads_back_as_the_same_post() {
        let sources = [
            "---\ntitle: \"Quotes: 'and' #hash\"\ndate: 2024-01-01T10:00:00+02:00\nupdated: 2024-02-01\ntags: [Rust, web dev]\ndraft: true\naliases: [/old/]\nimage: /assets/a.png\n---\n# Hi\n\nBody with `code`.\n",
            "title: Flat\ndate: 2024-01-01\npublished: yes\n\nFirst para.\n\nSecond.\n",
            "+++\ntitle = \"Toml\"\ndate = 2024-03-01\nsummary = \"Given\"\n+++\nBody\n",
        ];
        for src in sources {
            let post = compile(src, Some("Some File")).unwrap();
            let again = compile(&to_source(&post), None).unwrap();
            assert_eq!(again, post, "{}", to_source(&post));
        }
    }

    #[test]
    fn oversized_sources_are_refused_with_the_limit() {
        let big = format!(
            "---\ntitle: T\ndate: 2024-01-01\n---\n{}",
            "x".repeat(MAX_SOURCE_BYTES)
        );
        let err = compile(&big, None).unwrap_err();
        assert!(err.message.contains("limit is 131072 bytes"), "{err}");
    }

    #[test]
    fn a_rerender_stores_what_publishing_the_same_source_stores() {
        let sources = [
            "---\ntitle: Derived\ndate: 2024-01-01\n---\nFirst *para*.\n\n## A heading\n\n```rust\nfn main() {}\n```\n",
            "---\ntitle: Given\ndate: 2024-01-01\nsummary: The author's words.\n---\nAbove.\n\n<!-- more -->\n\nBelow.\n",
        ];
        for source in sources {
            let fresh = compile(source, Some("p")).unwrap();
            assert_eq!(fresh.renderer, crate::version::RENDERER);
            let older = Post {
                html: "<p>old</p>".into(),
                summary_html: String::new(),
                toc: Vec::new(),
                reading_minutes: 9,
                description: if fresh.description_from_body {
                    "old".into()
                } else {
                    fresh.description.clone()
                },
                renderer: "an older one".into(),
                ..fresh.clone()
            };
            assert_eq!(rerender(&older), fresh);
        }
    }

    #[test]
    fn the_shown_source_leaves_a_derived_description_to_be_derived_again() {
        let derived = compile("---\ntitle: T\ndate: 2024-01-01\n---\nFirst para.\n", None).unwrap();
        assert!(derived.description_from_body);
        let shown = to_source(&derived);
        assert!(!shown.contains("summary:"), "{shown}");
        assert_eq!(compile(&shown, None).unwrap(), derived);
        let given = compile(
            "---\ntitle: T\ndate: 2024-01-01\nsummary: Mine.\n---\nFirst para.\n",
            None,
        )
        .unwrap();
        assert!(!given.description_from_body);
        assert_eq!(compile(&to_source(&given), None).unwrap(), given);
    }
}
