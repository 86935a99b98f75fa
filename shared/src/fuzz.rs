//! Property tests over every input class an author or a visitor controls. Each
//! target feeds generated input (tokens that matter to the parser, mixed with
//! arbitrary characters) to the real code and checks it neither panics nor breaks
//! its rule. `cargo test` runs a short pass (proptest's 256 cases each);
//! `scripts/reliability.sh` runs each target for a million (`PROPTEST_CASES`).
//! A failure proptest finds is saved under `proptest-regressions/` and replayed
//! first on every later run: commit those files, they are the regression tests.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use proptest::prelude::*;

use crate::post::{PostDate, Slug, SortKey, Tag, YEARS};
use crate::urls::canonical_path;

/// Text made of pieces that mean something to `pieces`' parser, glued with
/// arbitrary characters, up to `len` pieces.
fn text_from(pieces: &'static [&'static str], len: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(pieces).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[ -~]{0,8}",
    ];
    proptest::collection::vec(piece, 0..len).prop_map(|v| v.concat())
}

const FRONT_MATTER: &[&str] = &[
    "---\n",
    "+++\n",
    "\n",
    "\n\n",
    "title: ",
    "title = ",
    "date: ",
    "date = ",
    "updated: ",
    "tags: ",
    "aliases: ",
    "slug: ",
    "summary: ",
    "image: ",
    "published: ",
    "draft: ",
    "true",
    "no",
    "2024-05-01",
    "2024-05-01T09:30:00+02:00",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "-0001-01-01",
    "+10000-01-01",
    "2018-05-19 10:30:00 -0500",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "'",
    "#",
    "- ",
    "  ",
    "\t",
    "/",
    "/posts/x/",
    "/über/",
    "%2e%2e",
    "https://evil.example/",
    "/feed.xml",
    "é",
    "\u{0}",
    "\r\n",
    "~",
    "&",
    "*",
    "!",
    "1e9",
    "null",
];

const MARKDOWN: &[&str] = &[
    "\n",
    "\n\n",
    "# ",
    "## ",
    "###### ",
    "*",
    "**",
    "_",
    "`",
    "```",
    "```rust\n",
    "~~~",
    "> ",
    "- ",
    "1. ",
    "- [ ] ",
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "<",
    ">",
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "JaVaScRiPt:",
    "data:text/html,x",
    "vbscript:x",
    "<!-- more -->",
    "|",
    "| a | b |\n|---|---|\n",
    "---",
    "[^1]",
    "[^1]: note",
    "&amp;",
    "&#x3C;",
    "\\",
    "~~",
    "    ",
    "\t",
    "https://x.example/",
    "<https://x.example>",
    "www.x.example",
    "\"",
    "'",
    "é",
    "\u{200b}",
    "\r",
];

const PATHS: &[&str] = &[
    "/",
    "//",
    "posts",
    "tags",
    "api",
    "assets",
    "feed.xml",
    "%2e",
    "%2E%2e",
    "..",
    ".",
    "%2F",
    "%",
    "%C3%BC",
    "%c3%bc",
    "%FF",
    "ü",
    " ",
    "?",
    "#",
    "*",
    "\"",
    "<",
    ">",
    "\\",
    "\u{7f}",
    "http://",
    "https://x.example/",
    "a",
    "-",
    "%00",
];

const QUERY: &[&str] = &[
    "name=",
    "before=",
    "after=",
    "&",
    "=",
    "+",
    "%",
    "%2F",
    "%2e%2e",
    "..",
    "/",
    ".png",
    ".svg",
    "photo",
    "2024-01-01T08:00:00Z",
    "%23",
    "#",
    "a-b",
    "%FF",
    "%C3%BC",
    " ",
    "\\",
];

fn any_date() -> impl Strategy<Value = DateTime<FixedOffset>> {
    // Timestamps from a little before year 1 to a little after 9999, any offset in
    // whole minutes (what RFC 3339 can write).
    (-62_200_000_000i64..253_500_000_000i64, -1439i32..1440i32).prop_filter_map(
        "not representable",
        |(secs, minutes)| {
            let utc = DateTime::<Utc>::from_timestamp(secs, 0)?;
            Some(utc.with_timezone(&FixedOffset::east_opt(minutes * 60)?))
        },
    )
}

fn any_slug() -> impl Strategy<Value = Slug> {
    "[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}".prop_filter_map("not a slug", |s| Slug::parse(&s).ok())
}

proptest! {
    /// Front matter: any text parses or gives an error with a field or a line;
    /// what parses holds only values the read path can represent.
    #[test]
    fn front_matter(source in text_from(FRONT_MATTER, 40)) {
        match crate::frontmatter::parse(&source) {
            Ok(doc) => {
                let f = doc.front;
                prop_assert!(!f.title.is_empty());
                for date in std::iter::once(f.date).chain(f.updated) {
                    prop_assert!(YEARS.contains(&chrono::Datelike::year(&date.utc())));
                    let _ = (date.rfc2822(), date.rfc3339());
                }
                for alias in &f.aliases {
                    prop_assert_eq!(canonical_path(alias), Ok(alias.clone()));
                    prop_assert!(crate::routes::reserved(alias).is_none());
                }
            }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    /// Markdown: any body renders; raw HTML and script URLs never come through.
    #[test]
    fn markdown(body in text_from(MARKDOWN, 60)) {
        let out = crate::markdown::render(&body);
        for html in [&out.html, &out.summary_html] {
            let lower = html.to_ascii_lowercase();
            prop_assert!(!lower.contains("<script"), "{}", html);
            prop_assert!(!lower.contains("<img src=x"), "{}", html);
            prop_assert!(!lower.contains("href=\"javascript:"), "{}", html);
            prop_assert!(!lower.contains("href=\"vbscript:"), "{}", html);
            prop_assert!(!lower.contains("href=\"data:"), "{}", html);
        }
        prop_assert!(out.reading_minutes >= 1);
    }

    /// A whole source through `authoring::compile`, as the API and the
    /// filesystem store take it.
    #[test]
    fn compile(
        front in text_from(FRONT_MATTER, 20),
        body in text_from(MARKDOWN, 20),
        stem in "[a-zA-Z0-9 ._-]{0,12}",
    ) {
        let source = format!("---\ntitle: T\ndate: 2024-01-01\n{front}\n---\n{body}");
        if let Ok(post) = crate::authoring::compile(&source, Some(&stem)) {
            prop_assert!(!post.aliases.contains(&post.path()));
            // Everything that reaches a feed is XML 1.0 text.
            for text in [&post.title, &post.description, &post.html, &post.summary_html] {
                prop_assert!(
                    !text.chars().any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')),
                    "{:?}",
                    text
                );
            }
            let _ = post.sort_key();
        }
    }

    /// The publish API's request parsing: content type, charset, body and
    /// If-Match. 428 only when If-Match is missing or `*`; a quoted tag that is not
    /// ours is 412, never 428.
    #[test]
    fn api_request(
        content_type in proptest::sample::select(&[
            "text/markdown", "text/markdown; charset=utf-8", "text/plain; charset=\"UTF-8\"",
            "application/json", "application/json; charset=latin1", "image/png", "",
            "TEXT/MARKDOWN;charset=utf-8;x=y", ";;;", "text/markdown; charset",
        ][..]),
        if_match in proptest::option::of(prop_oneof![
            Just("*".to_owned()), "\"[0-9]{1,25}\"", "\"[ -~]{0,10}\"", "[ -~]{0,10}",
            "W/\"[0-9]{1,3}\"",
        ]),
        body in prop_oneof![
            text_from(FRONT_MATTER, 30),
            "\\{\"source\": \"[ -~]{0,40}\"(, \"file_name\": \"[ -~]{0,12}\")?\\}",
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ],
    ) {
        let mut req = http::Request::builder().method("PUT").uri("/api/posts/x");
        if let Ok(v) = http::HeaderValue::from_str(content_type) {
            req = req.header(http::header::CONTENT_TYPE, v);
        }
        if let Some(tag) = if_match.as_deref().and_then(|t| http::HeaderValue::from_str(t).ok()) {
            req = req.header(http::header::IF_MATCH, tag);
        }
        let Ok(req) = req.body(bytes::Bytes::from(body)) else { return Ok(()) };
        let _ = crate::publish::posts::submission(&req);
        let status = match crate::publish::posts::if_match(&req) {
            Ok(_) => 200,
            Err(e) => crate::http::problem("/api/posts/x", &e).status.as_u16(),
        };
        let sent = req.headers().get(http::header::IF_MATCH).and_then(|v| v.to_str().ok());
        let missing = sent.is_none_or(|v| v.trim() == "*");
        prop_assert_eq!(status == 428, missing, "If-Match {:?} gave {}", sent, status);
    }

    /// Query strings: the asset upload's `?name=` and the listings' cursors
    /// (`?before=`, `?after=`), and the bytes an upload's type is sniffed from.
    #[test]
    fn api_query(query in text_from(QUERY, 12), bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        let req = http::Request::builder()
            .method("POST")
            .uri(format!("/api/assets?{query}"))
            .body(bytes::Bytes::new());
        if let Ok(req) = req {
            let name = crate::publish::assets::query_name(&req);
            if let Ok(stem) = crate::publish::assets::name_stem(&name) {
                prop_assert!(!stem.is_empty() && stem.len() <= 60);
                prop_assert!(stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
            for key in ["before", "after"] {
                if let Some(cursor) = crate::urls::query_param(req.uri().query(), key) {
                    if let Some(k) = SortKey::parse(&cursor) {
                        prop_assert_eq!(k.as_str(), cursor.as_str());
                    }
                }
            }
        }
        let _ = crate::publish::assets::sniff(&bytes);
    }

    /// Slugs and tags: whatever is accepted round-trips through its URL form.
    #[test]
    fn slug_and_tag(raw in text_from(PATHS, 8)) {
        if let Ok(slug) = Slug::parse(&raw) {
            prop_assert_eq!(crate::urls::encode_segment(slug.as_str()), slug.as_str());
            prop_assert!(crate::routes::route(&crate::post::post_path(&slug)).is_some());
        }
        if let Ok(tag) = Tag::parse(&raw) {
            prop_assert_eq!(Tag::parse(tag.as_str()), Ok(tag.clone()));
            let path = tag.path();
            let segment = &path["/tags/".len()..path.len() - 1];
            prop_assert_eq!(crate::urls::decode(segment), Some(tag.as_str().to_owned()));
            prop_assert_eq!(
                crate::routes::route(&path),
                Some(crate::routes::Route::Tag(segment))
            );
        }
    }

    /// Old paths: one spelling, idempotent, safe in a CDN path, and every
    /// percent-spelling of an accepted path finds it.
    #[test]
    fn alias_paths(raw in text_from(PATHS, 12)) {
        let raw = format!("/{raw}");
        if let Ok(canonical) = canonical_path(&raw) {
            prop_assert_eq!(canonical_path(&canonical), Ok(canonical.clone()));
            prop_assert!(canonical.bytes().all(|b| b.is_ascii_graphic()));
            prop_assert!(!canonical.contains(['"', '<', '>', '*', '?', '#', '\\']));
            let lower = lower_escapes(&canonical);
            prop_assert_eq!(canonical_path(&lower), Ok(canonical.clone()));
        }
    }

    /// The sort key: for any two valid dates, key order is date order (then slug),
    /// and listings' "not public yet" bound splits them the same way.
    #[test]
    fn sort_key_order(a in any_date(), b in any_date(), sa in any_slug(), sb in any_slug()) {
        let (Ok(da), Ok(db)) = (PostDate::new(a), PostDate::new(b)) else {
            prop_assert!(PostDate::new(a).is_err() || PostDate::new(b).is_err());
            return Ok(());
        };
        // The key keeps whole seconds, so compare at that precision.
        let ka = SortKey::new(da, &sa);
        let kb = SortKey::new(db, &sb);
        prop_assert_eq!(ka.cmp(&kb), (da.utc(), &sa).cmp(&(db.utc(), &sb)));
        prop_assert_eq!(SortKey::parse(ka.as_str()), Some(ka.clone()));
        prop_assert_eq!(ka < SortKey::upper_bound(db.utc()), da <= db.utc());
        let _ = (da.rfc2822(), da.rfc3339());
    }

    /// Dates outside 0001-9999 are refused however they are written.
    #[test]
    fn date_range(d in any_date()) {
        let ok = YEARS.contains(&chrono::Datelike::year(&d))
            && YEARS.contains(&chrono::Datelike::year(&d.with_timezone(&Utc)));
        prop_assert_eq!(PostDate::new(d).is_ok(), ok);
        let json = serde_json::to_string(&d).unwrap_or_default();
        prop_assert_eq!(serde_json::from_str::<PostDate>(&json).is_ok(), ok);
    }
}

/// `path` with the hex digits of its percent-escapes in lower case: another
/// spelling of the same path, as some clients send it.
fn lower_escapes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut hex_left = 0;
    for c in path.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            hex_left = if c == '%' { 2 } else { 0 };
            out.push(c);
        }
    }
    out
}

#[cfg(feature = "lambda")]
proptest! {
    /// An API Gateway event with any path, query, method, headers and body becomes
    /// the request it describes, or an error, never a panic; the path is kept as sent.
    #[test]
    fn api_gateway_event(
        path in text_from(PATHS, 10),
        query in "[ -~]{0,20}",
        method in proptest::sample::select(&["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "BREW"][..]),
        host in "[ -~]{0,20}",
        body in proptest::option::of("[ -~]{0,40}"),
        base64 in any::<bool>(),
    ) {
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"host": host, "if-match": "\"1\"", "content-type": "text/markdown"},
            "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
            "body": body,
            "isBase64Encoded": base64,
        });
        if let Ok(req) = crate::lambda::apigw::request_from_json(&event.to_string()) {
            prop_assert_eq!(req.uri().path(), path.as_str());
            let _ = crate::routes::route(req.uri().path());
            let _ = crate::publish::api_route(req.uri().path());
            let _ = crate::publish::posts::submission(&req);
        }
    }
}

#[test]
fn the_dates_from_the_report_are_refused() {
    let utc = FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!());
    for (y, m, d) in [(-1, 1, 1), (0, 12, 31), (10_000, 1, 1)] {
        let date = utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single();
        assert!(date.is_some_and(|date| PostDate::new(date).is_err()), "{y}");
    }
}
