//! The files a post refers to: Markdown images and links (inline and reference
//! definitions) and raw HTML `src`/`href`/`poster` attributes, outside code. Each is
//! found with its byte range in the body, so it can be rewritten in place.

use std::path::{Path, PathBuf};

use blog_core::markdown::fences::Fences;

/// One reference to a URL in a post's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// Byte range of the URL text in the body.
    pub start: usize,
    /// End of that range.
    pub end: usize,
    /// 1-based line in the body.
    pub line: usize,
    /// An image (`![..](..)`, `<img src>`, media sources) rather than a link.
    pub image: bool,
}

impl Ref {
    /// The URL as written.
    pub fn text<'a>(&self, body: &'a str) -> &'a str {
        &body[self.start..self.end]
    }
}

/// Every reference in `body`, in order. Code (fenced blocks and inline spans) is
/// left alone: a URL shown in code is text, not a reference.
pub fn find(body: &str) -> Vec<Ref> {
    let masked = mask_code(body);
    let mut out = Vec::new();
    markdown_inline(&masked, &mut out);
    reference_definitions(&masked, &mut out);
    html_attributes(&masked, &mut out);
    out.sort_by_key(|r| r.start);
    out.dedup_by_key(|r| r.start);
    for r in &mut out {
        r.line = 1 + body[..r.start].matches('\n').count();
    }
    out
}

/// `body` with code blanked out (same byte length, so offsets stay valid).
fn mask_code(body: &str) -> Vec<u8> {
    let mut out = body.as_bytes().to_vec();
    let mut offset = 0;
    let mut fences = Fences::default();
    for line in body.split_inclusive('\n') {
        if fences.is_code(line) {
            // Blank, but keep the line break: lines are counted and split later.
            let text = line.trim_end_matches('\n').len();
            out[offset..offset + text].fill(b' ');
        } else {
            mask_code_spans(&mut out[offset..offset + line.len()]);
        }
        offset += line.len();
    }
    out
}

/// Blanks `` `code` `` spans within one line.
fn mask_code_spans(line: &mut [u8]) {
    let mut i = 0;
    while i < line.len() {
        if line[i] != b'`' {
            i += 1;
            continue;
        }
        let ticks = line[i..].iter().take_while(|b| **b == b'`').count();
        let open = i;
        let mut j = i + ticks;
        let mut close = None;
        while j < line.len() {
            if line[j] == b'`' {
                let run = line[j..].iter().take_while(|b| **b == b'`').count();
                if run == ticks {
                    close = Some(j + run);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                line[open..end].fill(b' ');
                i = end;
            }
            None => i += ticks,
        }
    }
}

/// `[text](url "title")` and `![alt](url)`.
fn markdown_inline(text: &[u8], out: &mut Vec<Ref>) {
    let mut i = 0;
    while i + 1 < text.len() {
        if !(text[i] == b']' && text[i + 1] == b'(') {
            i += 1;
            continue;
        }
        let image = opening_bracket(text, i).is_some_and(|o| o > 0 && text[o - 1] == b'!');
        let mut start = i + 2;
        while start < text.len() && matches!(text[start], b' ' | b'\t') {
            start += 1;
        }
        let end = if text.get(start) == Some(&b'<') {
            start += 1;
            text[start..]
                .iter()
                .position(|b| matches!(b, b'>' | b'\n'))
                .map(|p| start + p)
        } else {
            let mut depth = 0usize;
            let mut j = start;
            // A template tag (`{{ site.baseurl }}`) holds spaces: step over it.
            if text[start..].starts_with(b"{{") {
                if let Some(close) = text[start..].windows(2).position(|w| w == b"}}") {
                    j = start + close + 2;
                }
            }
            while j < text.len() {
                match text[j] {
                    b'(' => depth += 1,
                    b')' if depth == 0 => break,
                    b')' => depth -= 1,
                    b' ' | b'\t' | b'\n' => break,
                    _ => {}
                }
                j += 1;
            }
            Some(j)
        };
        if let Some(end) = end.filter(|e| *e > start) {
            out.push(Ref {
                start,
                end,
                line: 0,
                image,
            });
            i = end;
        } else {
            i += 2;
        }
    }
}

/// The `[` that the `]` at `close` ends, on the same paragraph.
fn opening_bracket(text: &[u8], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = close;
    while j > 0 {
        j -= 1;
        match text[j] {
            b']' => depth += 1,
            b'[' if depth == 0 => return Some(j),
            b'[' => depth -= 1,
            b'\n' if j > 0 && text[j - 1] == b'\n' => return None,
            _ => {}
        }
    }
    None
}

/// `[name]: url` lines. Whether the name is used as an image is not known here.
fn reference_definitions(text: &[u8], out: &mut Vec<Ref>) {
    let mut offset = 0;
    for line in text.split_inclusive(|b| *b == b'\n') {
        let indent = line.iter().take_while(|b| **b == b' ').count();
        let rest = &line[indent..];
        if indent <= 3 && rest.first() == Some(&b'[') && rest.get(1) != Some(&b'^') {
            if let Some(close) = rest.windows(2).position(|w| w == b"]:") {
                let mut start = indent + close + 2;
                while start < line.len() && matches!(line[start], b' ' | b'\t') {
                    start += 1;
                }
                let stripped = line.get(start) == Some(&b'<');
                if stripped {
                    start += 1;
                }
                let end = line[start..]
                    .iter()
                    .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'>'))
                    .map_or(line.len(), |p| start + p);
                if end > start {
                    let url = &line[start..end];
                    out.push(Ref {
                        start: offset + start,
                        end: offset + end,
                        line: 0,
                        image: has_image_extension(&String::from_utf8_lossy(url)),
                    });
                }
            }
        }
        offset += line.len();
    }
}

/// `src`, `href` and `poster` attribute values inside raw HTML tags.
fn html_attributes(text: &[u8], out: &mut Vec<Ref>) {
    let mut i = 0;
    while let Some(p) = text[i..].iter().position(|b| *b == b'<') {
        let open = i + p;
        let name_len = text[open + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let tag_end = text[open..]
            .iter()
            .position(|b| *b == b'>')
            .map_or(text.len(), |e| open + e);
        if name_len == 0 {
            i = open + 1;
            continue;
        }
        let name = String::from_utf8_lossy(&text[open + 1..open + 1 + name_len]).to_lowercase();
        let mut j = open + 1 + name_len;
        while j < tag_end {
            let at_word = text[j - 1].is_ascii_whitespace();
            let attr = ["src", "href", "poster"].into_iter().find(|a| {
                text[j..tag_end]
                    .get(..a.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(a.as_bytes()))
            });
            if let (true, Some(attr)) = (at_word, attr) {
                let mut k = j + attr.len();
                while k < tag_end && text[k] == b' ' {
                    k += 1;
                }
                if text.get(k) == Some(&b'=') {
                    k += 1;
                    while k < tag_end && text[k] == b' ' {
                        k += 1;
                    }
                    if let Some(&q @ (b'"' | b'\'')) = text.get(k) {
                        let start = k + 1;
                        if let Some(len) = text[start..tag_end].iter().position(|b| *b == q) {
                            out.push(Ref {
                                start,
                                end: start + len,
                                line: 0,
                                image: name != "a",
                            });
                            j = start + len;
                        }
                    }
                }
            }
            j += 1;
        }
        i = tag_end.max(open + 1);
    }
}

/// Whether the URL names an image by its extension.
pub fn has_image_extension(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some("png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "svg")
    )
}

/// Where a reference points in the folder being imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Another site, a page anchor, an e-mail address, or a page (not a file).
    Elsewhere,
    /// A file in the folder.
    File(PathBuf),
    /// A file that should be there and is not: the places looked in.
    Missing(Vec<PathBuf>),
    /// A file outside the blog's folder (`../../secret.png`): never read.
    Outside(PathBuf),
}

/// Resolves `url` from a post at `post_dir` in a site whose root folder is `root`:
/// relative to the post (Hugo page bundles, FlatPages), or from the root, where
/// Hugo and Zola serve `static/`, Flask serves `/static/` from beside its pages and
/// Jekyll serves `/assets/` as it is.
pub fn resolve(url: &str, post_dir: &Path, root: &Path, image: bool) -> Target {
    let url = url.trim();
    let url = ["{{ site.url }}", "{{site.url}}"]
        .iter()
        .fold(url, |u, p| u.strip_prefix(p).unwrap_or(u));
    let url = [
        "{{ site.baseurl }}",
        "{{site.baseurl}}",
        "{{ .Site.BaseURL }}",
    ]
    .iter()
    .fold(url, |u, p| u.strip_prefix(p).unwrap_or(u));
    let scheme = url
        .split_once(':')
        .is_some_and(|(s, _)| !s.is_empty() && !s.contains('/'));
    if url.is_empty() || scheme || url.starts_with("//") || url.starts_with('#') {
        return Target::Elsewhere;
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let page_like = path.ends_with('/')
        || matches!(
            ext.as_deref(),
            None | Some("md" | "markdown" | "html" | "htm" | "xml" | "php")
        );
    if page_like && !image {
        return Target::Elsewhere;
    }
    let candidates: Vec<PathBuf> = match decoded.strip_prefix('/') {
        Some(rest) => {
            if rest.starts_with("static/") {
                // Flask serves `static/` beside the app's pages folder.
                let mut c = vec![root.join(rest)];
                c.extend(root.parent().map(|p| p.join(rest)));
                c
            } else {
                // Hugo and Zola serve `static/` at the site's root.
                vec![root.join(rest), root.join("static").join(rest)]
            }
        }
        None => vec![post_dir.join(decoded.as_ref())],
    };
    match candidates.iter().find(|c| c.is_file()) {
        Some(file) if inside(file, root) => Target::File(file.clone()),
        Some(file) => Target::Outside(file.clone()),
        None => Target::Missing(candidates),
    }
}

/// Whether `file` is in the blog's folder (or, for Flask's `static/` beside its
/// `pages/`, the folder above), links followed: a post cannot make the import read
/// and publish a file from elsewhere on the author's disk.
fn inside(file: &Path, root: &Path) -> bool {
    let (Ok(file), Ok(root)) = (file.canonicalize(), root.canonicalize()) else {
        return false;
    };
    let flask_static = root.parent().map(|p| p.join("static"));
    file.starts_with(&root) || flask_static.is_some_and(|s| file.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(body: &str) -> Vec<(String, usize, bool)> {
        find(body)
            .iter()
            .map(|r| (r.text(body).to_owned(), r.line, r.image))
            .collect()
    }

    #[test]
    fn references_in_markdown_and_html_but_not_in_code() {
        let body = "Intro ![a [nested] alt](img/a.png \"t\") and [pdf](<files/b c.pdf>). ![l]({{ site.baseurl }}/l.png)\n\
                    \n\
                    <img width=\"600\" src=\"/static/images/diagram.png\">\n\
                    <a href='/static/x.zip'>x</a> <video controls\n  poster=\"p.jpg\" src=\"v.mp4\"></video>\n\
                    `![no](code.png)` and\n\
                    ```\n![no](fenced.png)\n```\n\
                    [ref]: /assets/c.jpg \"title\"\n\
                    [^1]: a footnote (not a URL)\n\
                    [Link](https://example.com/a_(b)) [page](../other-post/)\n";
        assert_eq!(
            urls(body),
            vec![
                ("img/a.png".to_owned(), 1, true),
                ("files/b c.pdf".to_owned(), 1, false),
                ("{{ site.baseurl }}/l.png".to_owned(), 1, true),
                ("/static/images/diagram.png".to_owned(), 3, true),
                ("/static/x.zip".to_owned(), 4, false),
                ("p.jpg".to_owned(), 5, true),
                ("v.mp4".to_owned(), 5, true),
                ("/assets/c.jpg".to_owned(), 10, true),
                ("https://example.com/a_(b)".to_owned(), 12, false),
                ("../other-post/".to_owned(), 12, false),
            ]
        );
    }

    #[test]
    fn resolution_follows_each_engines_folders() {
        let root = tempfile::TempDir::new().unwrap();
        let r = root.path();
        for f in [
            "static/images/d.png",
            "assets/img/j.jpg",
            "content/posts/trip/photo.jpg",
            "content/posts/x.md",
        ] {
            std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
            std::fs::write(r.join(f), b"x").unwrap();
        }
        let post = r.join("content/posts/trip");
        let file = |p: &str| Target::File(r.join(p));
        assert_eq!(
            resolve("/static/images/d.png", &post, r, true),
            file("static/images/d.png")
        );
        assert_eq!(
            resolve("/images/d.png", &post, r, true),
            file("static/images/d.png")
        );
        assert_eq!(
            resolve("{{ site.baseurl }}/assets/img/j.jpg", &post, r, true),
            file("assets/img/j.jpg")
        );
        assert_eq!(
            resolve("photo.jpg?w=2#x", &post, r, true),
            file("content/posts/trip/photo.jpg")
        );
        assert_eq!(
            resolve("https://e.com/a.png", &post, r, true),
            Target::Elsewhere
        );
        assert_eq!(resolve("#top", &post, r, false), Target::Elsewhere);
        assert_eq!(resolve("../x.md", &post, r, false), Target::Elsewhere);
        assert_eq!(resolve("/about/", &post, r, false), Target::Elsewhere);
        assert!(
            matches!(resolve("/static/gone.png", &post, r, true), Target::Missing(c) if c[0] == r.join("static/gone.png"))
        );
        assert!(matches!(
            resolve("files/a.pdf", &post, r, false),
            Target::Missing(_)
        ));
    }

    #[test]
    fn a_file_outside_the_folder_is_never_read() {
        let top = tempfile::TempDir::new().unwrap();
        let root = top.path().join("blog");
        std::fs::create_dir_all(root.join("_posts")).unwrap();
        std::fs::write(top.path().join("secret.png"), b"x").unwrap();
        let post = root.join("_posts");
        assert!(matches!(
            resolve("../../secret.png", &post, &root, true),
            Target::Outside(_)
        ));
        assert!(matches!(
            resolve("../secret.png", &post, &root, true),
            Target::Missing(_)
        ));
    }
}
