//! A site for handler tests: a copy of the sample content plus posts that
//! exercise drafts, scheduling, aliases and pagination, served through `FsStore`.

use blog_core::http::{Request, Response};
use blog_core::store::fs::FsStore;
use blog_core::{App, Config};
use bytes::Bytes;
use tempfile::TempDir;

use crate::content::{copy_dir, sample_content};

/// Extra posts: one scheduled far in the future, one with aliases and a tag with a
/// space and a non-ASCII letter, and a run of dated posts for pagination.
pub const EXTRA: &[(&str, &str)] = &[
    ("future-post.md", "---\ntitle: From the future\ndate: 2999-01-01\ntags: [rust]\n---\nNot yet.\n"),
    (
        "renamed.md",
        "---\ntitle: Renamed post\ndate: 2026-06-01\naliases: [/2019/old-name.html, /posts/old-name/, /über-alt/, \"/a <b>*\"]\ntags: [Web Dev, Ünïcode]\n---\nMoved here.\n",
    ),
    ("Old_File_Name.md", "title: Flask named file\ndate: 2026-05-01\npublished: yes\n\nFrom Flask.\n"),
];

/// A site in a temp folder: the sample content, [`EXTRA`], and `series` posts
/// dated one day apart in January 2026 (`series-01` oldest).
pub struct Site {
    pub dir: TempDir,
    pub app: App<FsStore, FsStore>,
}

pub fn site_with(series: usize, config: Config) -> Site {
    let dir = TempDir::new().unwrap();
    copy_dir(&sample_content(), dir.path());
    for (name, text) in EXTRA {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    for i in 1..=series {
        let text = format!(
            "---\ntitle: Series part {i}\ndate: 2026-01-{i:02}\ntags: [series]\n---\nPart {i}.\n"
        );
        std::fs::write(dir.path().join(format!("series-{i:02}.md")), text).unwrap();
    }
    let store = FsStore::open(dir.path()).unwrap();
    let app = App::one_store(config, store).unwrap();
    Site { dir, app }
}

/// Rewrites `file` in the site's folder with `from` replaced by `to`, as an editor would.
pub fn edit(site: &Site, file: &str, from: &str, to: &str) {
    let path = site.dir.path().join(file);
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(original.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, original.replace(from, to)).unwrap();
}

pub fn site() -> Site {
    site_with(0, Config::for_test())
}

pub fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Bytes::new()).unwrap()
}

pub async fn get(site: &Site, uri: &str) -> Response {
    blog_core::routes::handle(&site.app, None, request("GET", uri, &[])).await
}

pub fn text(res: &Response) -> String {
    String::from_utf8(res.body().to_vec()).unwrap()
}

pub fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// Parses HTML the way browsers do and fails on any parse error; returns the document.
pub fn well_formed_html(body: &str) -> scraper::Html {
    let doc = scraper::Html::parse_document(body);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    doc
}

/// The first match's attribute or text.
pub fn select_attr(doc: &scraper::Html, css: &str, attr: &str) -> Option<String> {
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(attr))
        .map(str::to_owned)
}

pub fn select_texts(doc: &scraper::Html, css: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}
