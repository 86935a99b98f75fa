//! Every template renders with sample data, escapes what it must, and yields
//! well-formed HTML or XML.

use minijinja::context;

use super::*;

fn sample_post(title: &str) -> Post {
    let date: PostDate = "2024-05-01T09:30:00Z".parse().unwrap();
    Post {
        slug: Slug::parse("sample").unwrap(),
        title: title.into(),
        date,
        updated: Some(date),
        draft: false,
        tags: vec![Tag::parse("web dev").unwrap()],
        description: "A \"quoted\" <description>".into(),
        aliases: vec![],
        image: None,
        markdown: "Body".into(),
        html: "<p>Body &amp; more</p>".into(),
        summary_html: "<p>Body</p>".into(),
        toc: vec![
            TocEntry {
                level: 2,
                id: "a".into(),
                title: "A".into(),
            },
            TocEntry {
                level: 3,
                id: "b".into(),
                title: "B <b>".into(),
            },
            TocEntry {
                level: 2,
                id: "c".into(),
                title: "C".into(),
            },
        ],
        reading_minutes: 3,
        renderer: String::new(),
        description_from_body: false,
        previous: None,
        next: None,
    }
}

fn meta() -> PageMeta {
    PageMeta {
        title: "T".into(),
        description: "D".into(),
        canonical: Some("https://blog.test/x/".into()),
        og_type: "website",
        ..PageMeta::default()
    }
}

fn html_ok(body: &str) {
    let doc = scraper::Html::parse_document(body);
    assert!(doc.errors.is_empty(), "{:?}\n{body}", doc.errors);
}

#[test]
fn every_template_renders() {
    let config = Config::for_test();
    let t = Templates::new(&config).unwrap();
    t.parse_all().unwrap();
    let post = sample_post("Tom & <Jerry>");
    let view = PostView::new(&post, &config);
    let summary = SummaryView::from(&post.summary());

    let index = t.render("index.html", context! { page => meta(), heading => "Latest", posts => vec![&summary], newer => "/?after=x", older => "/?before=y", number => 2, pages => 3, total => 25 }).unwrap();
    html_ok(&index);
    assert!(
        index.contains("Tom &amp; &lt;Jerry&gt;"),
        "titles are escaped"
    );
    assert!(
        index.contains("A &quot;quoted&quot; &lt;description&gt;"),
        "the excerpt is the plain description, escaped"
    );
    assert!(index.contains("Page 2 of 3"), "{index}");
    assert!(index.contains("All 25 posts, by year"), "{index}");

    let years = vec![context! { year => 2024, posts => vec![&summary] }];
    let archive = t
        .render(
            "archive.html",
            context! { page => meta(), years => years, total => 1 },
        )
        .unwrap();
    html_ok(&archive);
    assert!(archive.contains("<h2 id=\"y2024\">2024</h2>"), "{archive}");
    assert!(
        archive.contains("1 May</time> <a href=\"/posts/sample/\">Tom &amp; &lt;Jerry&gt;</a>"),
        "{archive}"
    );
    html_ok(
        &t.render("subscribe.html", context! { page => meta() })
            .unwrap(),
    );

    let page = t.render("post.html", context! { page => meta(), post => &view, jsonld => serde_json::json!({"headline": "</script><script>x"}), previous => None::<()>, next => None::<()> }).unwrap();
    html_ok(&page);
    assert!(page.contains("class=\"toc\""), "three headings show a TOC");
    assert!(page.contains("B &lt;b&gt;"));
    assert!(
        !page.contains("</script><script>x"),
        "JSON-LD cannot close its script element"
    );

    html_ok(&t.render("tags.html", context! { page => meta(), tags => vec![context! { name => "a", path => "/tags/a/", count => 2 }] }).unwrap());
    html_ok(
        &t.render(
            "error.html",
            context! { page => meta(), heading => "Page not found", message => "<gone>" },
        )
        .unwrap(),
    );

    let feed = context! { title => "F", self_url => "https://blog.test/feed.xml", html_url => "https://blog.test/", id => "https://blog.test/feed.xml", updated => "2024-05-01T09:30:00+00:00", updated_rfc2822 => "Wed, 1 May 2024 09:30:00 +0000" };
    for name in ["atom.xml", "rss.xml"] {
        let xml = t
            .render(name, context! { feed => &feed, posts => vec![&view] })
            .unwrap();
        roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(
            parsed.entries[0].title.as_ref().unwrap().content,
            "Tom & <Jerry>",
            "{name}"
        );
    }
    let sitemap = t.render("sitemap.xml", context! { urls => vec![context! { loc => "https://blog.test/a&b", lastmod => "2024-05-01" }] }).unwrap();
    roxmltree::Document::parse(&sitemap).unwrap();
    assert!(t
        .render("robots.txt", context! {})
        .unwrap()
        .contains("Sitemap: https://blog.test/sitemap.xml"));
}

#[test]
fn every_embedded_template_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "style.css" && n != "favicon.ico")
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = TEMPLATES.iter().map(|(n, _)| (*n).to_owned()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
}

#[test]
fn feed_ids_survive_a_change_of_scheme_and_port() {
    let post = sample_post("x");
    let a = feed_id(
        &Config {
            base_url: "https://blog.test".into(),
            ..Config::for_test()
        },
        &post.slug,
        post.date,
    );
    let b = feed_id(
        &Config {
            base_url: "http://blog.test:8080".into(),
            ..Config::for_test()
        },
        &post.slug,
        post.date,
    );
    assert_eq!(a, "tag:blog.test,2024-05-01:/posts/sample/");
    assert_eq!(a, b);
}

#[test]
fn feed_entries_carry_absolute_urls() {
    let html = "<p><img src=\"/assets/a.png\" alt=\"x\" /> <a href=\"/posts/b/\">b</a> \
                <a href=\"https://other.example/\">o</a> <a href=\"//cdn.example/x\">p</a>\
                <sup><a href=\"#fn-1\">1</a></sup> src=&quot;/no&quot;</p>";
    let out = absolute_urls(html, "https://blog.test", "https://blog.test/posts/a/");
    assert_eq!(
        out,
        "<p><img src=\"https://blog.test/assets/a.png\" alt=\"x\" /> <a href=\"https://blog.test/posts/b/\">b</a> \
         <a href=\"https://other.example/\">o</a> <a href=\"//cdn.example/x\">p</a>\
         <sup><a href=\"https://blog.test/posts/a/#fn-1\">1</a></sup> src=&quot;/no&quot;</p>"
    );
    assert!(matches!(
        absolute_urls("<p>plain</p>", "https://b", "https://b/p/"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn listing_excerpts_are_short() {
    let long = "word ".repeat(100);
    let cut = shorten(long.trim(), 160);
    assert!(cut.chars().count() <= 161 && cut.ends_with('…'), "{cut}");
}
