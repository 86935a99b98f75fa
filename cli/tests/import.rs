//! Moving a blog in and out, against a real `blog serve`: each engine's fixture
//! folder (`tests/fixtures/import/`) imports with working images (every
//! `/assets/...` a page names answers 200 with an image type) and working old
//! addresses (301 to the post); a dry run sends nothing; teaching errors; and
//! `blog export` then `blog import` into an empty site gives the same pages, byte
//! for byte, for the sample content and for the 200-post corpus.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use blog_e2e::api::TOKEN;
use blog_e2e::serve::BlogServe;
use blog_test_support::content::copy_dir;
use tempfile::TempDir;

/// Both sites call themselves this, so absolute URLs in pages match.
const BASE_URL: &str = "http://blog.test";

fn serve(dir: &Path) -> BlogServe {
    BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--content", dir.to_str().unwrap()],
        &[
            ("BLOG_TOKEN".into(), TOKEN.into()),
            ("BLOG_BASE_URL".into(), BASE_URL.into()),
        ],
    )
}

fn blog(server: &str, args: &[&str]) -> Output {
    Command::cargo_bin("blog")
        .unwrap()
        .args(args)
        .env_clear()
        .env("BLOG_ENDPOINT", server)
        .env("BLOG_TOKEN", TOKEN)
        .env("BLOG_API_RATE", "1000")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Status, `Content-Type`, `Location` and body.
fn get(url: &str) -> (u16, String, String, Vec<u8>) {
    let mut res = agent().get(url).call().unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (kind, location) = (header("content-type"), header("location"));
    let body = res
        .body_mut()
        .with_config()
        .limit(50 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (res.status().as_u16(), kind, location, body)
}

fn api_json(base: &str, path: &str) -> serde_json::Value {
    let mut res = agent()
        .get(format!("{base}{path}"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    serde_json::from_slice(&res.body_mut().read_to_vec().unwrap()).unwrap()
}

fn slugs(base: &str) -> Vec<String> {
    api_json(base, "/api/posts")["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn fixture(engine: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import")
            .join(engine),
        dir.path(),
    );
    dir
}

/// Every `/assets/...` URL a page names, in `src`, `srcset` and `href`.
fn asset_urls(html: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for attr in ["src=\"", "srcset=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let value = part.split('"').next().unwrap();
            for candidate in value.split(',') {
                let url = candidate.split_whitespace().next().unwrap_or("");
                if url.starts_with("/assets/") {
                    out.insert(url.to_owned());
                }
            }
        }
    }
    out
}

/// A fixture imported into an empty site: the site (still running), its folder,
/// the fixture's copy, and what the import said.
struct Imported {
    server: BlogServe,
    site: TempDir,
    src: TempDir,
    said: String,
}

/// Imports a fixture into an empty site and checks every page's images and every
/// old address.
fn import_fixture(engine: &str, extra: &[&str]) -> Imported {
    let src = fixture(engine);
    let site = TempDir::new().unwrap();
    let server = serve(site.path());
    let mut args = vec!["import", src.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = blog(&server.base, &args);
    let said = text(&out);
    assert!(out.status.success(), "{engine}: {said}");
    let base = server.base.clone();
    let mut images = 0;
    for slug in slugs(&base) {
        let (status, _, _, page) = get(&format!("{base}/posts/{slug}/"));
        assert_eq!(status, 200, "{engine}: /posts/{slug}/");
        let page = String::from_utf8(page).unwrap();
        for url in asset_urls(&page) {
            let (status, kind, _, bytes) = get(&format!("{base}{url}"));
            assert_eq!(status, 200, "{engine}: {url} on /posts/{slug}/");
            assert!(kind.starts_with("image/"), "{engine}: {url} is {kind}");
            assert!(!bytes.is_empty(), "{engine}: {url}");
            images += 1;
        }
        // Every alias the post was given redirects to it.
        let source = api_json(&base, &format!("/api/posts/{slug}"))["source"]
            .as_str()
            .unwrap()
            .to_owned();
        let post = blog_core::authoring::compile(&source, None).unwrap();
        for alias in &post.aliases {
            let (status, _, location, _) = get(&format!("{base}{alias}"));
            assert_eq!(status, 301, "{engine}: {alias}");
            assert_eq!(location, format!("/posts/{slug}/"), "{engine}: {alias}");
        }
    }
    assert!(images > 0, "{engine}: no image was checked");
    Imported {
        server,
        site,
        src,
        said,
    }
}

/// The old address answers 301 to the post.
fn redirects(base: &str, old: &str, slug: &str) {
    let (status, _, location, _) = get(&format!("{base}{old}"));
    assert_eq!(
        (status, location.as_str()),
        (301, format!("/posts/{slug}/").as_str()),
        "{old}"
    );
}

fn page(base: &str, path: &str) -> String {
    let (status, _, _, body) = get(&format!("{base}{path}"));
    assert_eq!(status, 200, "{path}");
    String::from_utf8(body).unwrap()
}

#[test]
fn a_flask_flatpages_blog_moves_in_with_its_images_and_addresses() {
    let Imported {
        server,
        site,
        src,
        said,
    } = import_fixture("flatpages", &["--infer"]);
    let base = &server.base;
    redirects(base, "/post/first-post/", "first-post");
    redirects(base, "/post/Capital_Keys/", "capital-keys");
    // The raw <img> renders as an image (its width kept), from the asset store.
    let first = page(base, "/posts/first-post/");
    assert!(first.contains("alt=\"How the app is laid out\""), "{first}");
    assert!(!first.contains("&lt;img"), "{first}");
    assert!(!first.contains("/static/"), "{first}");
    // Keys in capitals are read and said; the unknown key is named; the lost image
    // is a warning with its file and line; the header-less page got one.
    for expected in [
        "\"Title\" is read as \"title\"",
        "\"PROJECT NAME\" is not a field this blog reads",
        "line 8: /static/images/gone.png is not in the folder",
        "pages/Capital_Keys.md:",
        "the title \"About the app\" is its first heading",
    ] {
        assert!(said.contains(expected), "{expected}: {said}");
    }
    let about = page(base, "/posts/about-the-app/");
    assert!(about.contains("<h1>About the app</h1>"), "{about}");
    assert!(
        !about.contains("id=\"about-the-app\""),
        "the heading became the title: {about}"
    );
    // The same photo, referenced by two posts, was stored once.
    let sets = std::fs::read_dir(site.path().join("assets"))
        .unwrap()
        .count();
    assert_eq!(sets, 2, "diagram and photo, each once");
    // Again: nothing changes.
    let again = blog(base, &["import", src.path().to_str().unwrap(), "--infer"]);
    assert!(text(&again).contains("3 unchanged"), "{}", text(&again));
}

#[test]
fn a_flatpages_post_without_front_matter_is_told_what_to_paste() {
    let src = fixture("flatpages");
    let site = TempDir::new().unwrap();
    let server = serve(site.path());
    let out = blog(&server.base, &["import", src.path().to_str().unwrap()]);
    let said = text(&out);
    assert!(!out.status.success());
    assert!(said.contains("imported 2 of 3"), "{said}");
    assert!(
        said.contains(
            "pages/about-the-app.md: line 1: no front matter: a post needs a title and a date"
        ) && said.contains("title: \"About the app\"\ndate: YYYY-MM-DD"),
        "{said}"
    );
    // A header that runs into the text points at the missing blank line.
    std::fs::write(
        src.path().join("pages/run-on.md"),
        "title: Run on\ndate: 2024-01-01\n# Heading\nText.\n",
    )
    .unwrap();
    let out = blog(&server.base, &["import", src.path().to_str().unwrap()]);
    assert!(
        text(&out)
            .contains("pages/run-on.md: line 3: the post's text starts here, inside the header")
            && text(&out).contains("add an empty line after line 2"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_jekyll_blog_moves_in_with_its_dates_permalinks_and_figures() {
    let Imported { server, said, .. } = import_fixture("jekyll", &[]);
    let base = &server.base;
    // _config.yml sets no permalink: Jekyll's `date` style, categories first.
    redirects(
        base,
        "/jekyll/update/2018/05/19/welcome-to-jekyll.html",
        "welcome-to-jekyll",
    );
    redirects(base, "/notes/with-permalink/", "with-permalink");
    redirects(base, "/2019/01/02/with-permalink.html", "with-permalink");
    redirects(
        base,
        "/notes/2019/03/04/dated-by-its-name.html",
        "dated-by-its-name",
    );
    let welcome = page(base, "/posts/welcome-to-jekyll/");
    // 10:30 at -05:00, as written.
    assert!(welcome.contains("2018-05-19T10:30:00-05:00"), "{welcome}");
    assert!(!welcome.contains("site.baseurl"), "{welcome}");
    let figure = page(base, "/posts/with-permalink/");
    assert!(
        figure.contains("<figure>")
            && figure.contains("<figcaption>Sales, by month<sup>1</sup></figcaption>"),
        "{figure}"
    );
    assert!(page(base, "/posts/dated-by-its-name/").contains("2019-03-04"));
    // Jekyll's template tags: `{% highlight %}` is a highlighted block, `{% post_url %}`
    // a link to the post.
    assert!(
        welcome.contains("class=\"hl-") && !welcome.contains("{%"),
        "{welcome}"
    );
    assert!(
        figure.contains("href=\"/posts/welcome-to-jekyll/\""),
        "{figure}"
    );
    assert!(page(base, "/tags/update/").contains("Welcome to Jekyll!"));
    assert!(
        said.contains("\"layout\" is not a field this blog reads"),
        "{said}"
    );
}

#[test]
fn a_hugo_blog_keeps_both_posts_of_one_slug_and_its_bundle_photo() {
    let Imported {
        server, site, said, ..
    } = import_fixture("hugo", &[]);
    let base = &server.base;
    let all = slugs(base);
    for slug in [
        "the-elm-developer-retreat",
        "the-elm-developer-retreat-2016-10-09",
        "my-trip",
    ] {
        assert!(all.contains(&slug.to_owned()), "{slug}: {all:?}");
    }
    assert!(
        said.contains("this post is imported as the-elm-developer-retreat-2016-10-09"),
        "{said}"
    );
    redirects(
        base,
        "/2016/09/12/the-elm-developer-retreat/",
        "the-elm-developer-retreat",
    );
    redirects(
        base,
        "/2016/10/09/the-elm-developer-retreat/",
        "the-elm-developer-retreat-2016-10-09",
    );
    redirects(
        base,
        "/post/2016-09-12-the-elm-developer-retreat/",
        "the-elm-developer-retreat",
    );
    redirects(base, "/trips/norway/", "my-trip");
    redirects(base, "/post/my-trip/", "my-trip");
    // The bundle's photo became an image set, upright (orientation 6: 320×240 stored
    // sideways is 240×320), without its GPS block.
    let trip = page(base, "/posts/my-trip/");
    assert!(
        trip.contains("<picture>") && trip.contains("/240x320.jpg"),
        "{trip}"
    );
    // Hugo's figure shortcode became a figure with its caption.
    assert!(
        trip.contains("<figcaption>The fjord at dawn</figcaption></figure>"),
        "{trip}"
    );
    let set = std::fs::read_dir(site.path().join("assets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("fjord-")
        })
        .unwrap();
    let served = std::fs::read(set.join("240x320.jpg")).unwrap();
    assert!(blog_test_support::photos::metadata_found(&served).is_empty());
    // Updated from lastmod, tags from categories and tags.
    assert!(trip.contains("2020-06-03"), "{trip}");
    assert!(page(base, "/tags/events/").contains("The Elm Developer Retreat"));
}

#[test]
fn a_zola_blog_moves_in_with_its_taxonomies_and_colocated_assets() {
    let Imported { server, .. } = import_fixture("zola", &[]);
    let base = &server.base;
    redirects(base, "/blog/first-zola-post/", "first-zola-post");
    redirects(base, "/old/second/", "second");
    redirects(base, "/blog/second/", "second");
    assert!(page(base, "/tags/zola/").contains("My first Zola post"));
    assert!(page(base, "/posts/second/").contains("2021-05-07"));
}

#[test]
fn old_urls_follow_a_pattern_given_on_the_command_line() {
    let Imported { server, .. } =
        import_fixture("zola", &["--old-urls", "/articles/{year}/{slug}.html"]);
    redirects(
        &server.base,
        "/articles/2021/first-zola-post.html",
        "first-zola-post",
    );
    // The pattern replaces the engine's own.
    assert_eq!(
        get(&format!("{}/blog/first-zola-post/", server.base)).0,
        404
    );
    let src = fixture("zola");
    let out = blog(
        &server.base,
        &[
            "import",
            src.path().to_str().unwrap(),
            "--old-urls",
            "/{nope}/",
        ],
    );
    assert!(
        !out.status.success() && text(&out).contains("{nope}"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_dry_run_says_everything_and_sends_nothing() {
    let src = fixture("jekyll");
    let site = TempDir::new().unwrap();
    let server = serve(site.path());
    let out = blog(
        &server.base,
        &["import", "--dry-run", src.path().to_str().unwrap()],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for expected in [
        "create /posts/welcome-to-jekyll/ from _posts/2018-05-19-welcome-to-jekyll.md",
        "upload assets/images/logo.png (",
        "alias /jekyll/update/2018/05/19/welcome-to-jekyll.html → /posts/welcome-to-jekyll/",
        "warning: line 2: \"layout\"",
        "dry run, nothing sent: 3 post(s) (3 to create), 2 file(s) to upload",
    ] {
        assert!(said.contains(expected), "{expected}: {said}");
    }
    assert!(slugs(&server.base).is_empty());
    assert_eq!(
        std::fs::read_dir(site.path())
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count(),
        0,
        "nothing written"
    );
}

/// Every page a reader or crawler can reach, every asset, and every post's
/// source (drafts and scheduled posts are only there).
fn everything(base: &str) -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<String> = [
        "/",
        "/archive/",
        "/tags/",
        "/feed.xml",
        "/rss.xml",
        "/sitemap.xml",
        "/subscribe/",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    let home = page(base, "/");
    let tags = page(base, "/tags/");
    for part in tags.split("href=\"/tags/").skip(1) {
        let tag = part.split('"').next().unwrap();
        if !tag.is_empty() {
            paths.push(format!("/tags/{tag}"));
        }
    }
    for part in home.split("href=\"/?before=").skip(1) {
        paths.push(format!("/?before={}", part.split('"').next().unwrap()));
    }
    let files = api_json(base, "/api/assets");
    for key in files["assets"].as_array().unwrap() {
        paths.push(format!("/assets/{}", key.as_str().unwrap()));
    }
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for slug in slugs(base) {
        paths.push(format!("/posts/{slug}/"));
        let source = api_json(base, &format!("/api/posts/{slug}"))["source"].clone();
        out.push((format!("source of {slug}"), source.to_string().into_bytes()));
    }
    paths.sort();
    paths.dedup();
    for path in paths {
        let (status, kind, location, body) = get(&format!("{base}{path}"));
        out.push((
            path,
            format!("{status} {kind} {location}\n")
                .into_bytes()
                .into_iter()
                .chain(body)
                .collect(),
        ));
    }
    out.sort();
    out
}

fn round_trip(content: &Path) -> usize {
    let site = TempDir::new().unwrap();
    copy_dir(content, site.path());
    let first = serve(site.path());
    let export = TempDir::new().unwrap();
    let dir = export.path().join("export");
    let out = blog(&first.base, &["export", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let empty = TempDir::new().unwrap();
    let second = serve(empty.path());
    let out = blog(&second.base, &["import", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let (a, b) = (everything(&first.base), everything(&second.base));
    assert_eq!(
        a.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        b.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for ((path, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{path} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }
    // Importing the export again changes nothing.
    let again = blog(&second.base, &["import", dir.to_str().unwrap()]);
    let said = text(&again);
    assert!(
        again.status.success() && !said.contains("created"),
        "{said}"
    );
    a.len()
}

#[test]
fn export_then_import_gives_the_sample_site_byte_for_byte() {
    let compared = round_trip(&blog_test_support::content::sample_content());
    println!("sample content: {compared} pages, files and sources identical");
}

#[test]
fn export_then_import_gives_the_corpus_site_byte_for_byte() {
    let dir = TempDir::new().unwrap();
    let script: PathBuf = blog_e2e::workspace().join("../shared/bench/make_corpus.py");
    let ok = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .args(["--posts", "200", "--seed", "19"])
        .status()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
    assert!(ok.success());
    let compared = round_trip(dir.path());
    assert!(compared > 200, "{compared}");
    println!("200-post corpus: {compared} pages, files and sources identical");
}

/// A `blog serve` over a fresh table and bucket on the emulators holding `dir`.
fn serve_dynamo(dir: &Path) -> BlogServe {
    let endpoint = blog_e2e::moto::endpoint();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, _, table, bucket) = runtime.block_on(blog_e2e::fixtures::seed_aws(endpoint, dir));
    let mut env = blog_e2e::moto::env(endpoint);
    env.extend([
        ("BLOG_TOKEN".to_owned(), TOKEN.to_owned()),
        ("BLOG_BASE_URL".to_owned(), BASE_URL.to_owned()),
    ]);
    BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--store", "dynamo", "--table", &table, "--bucket", &bucket],
        &env,
    )
}

#[test]
fn export_then_import_on_dynamodb_and_s3_gives_the_same_site_with_its_originals() {
    let content = blog_e2e::fixtures::content_dir();
    let first = serve_dynamo(content.path());
    // A photo uploaded through the API: an image set in assets/, the upload as sent
    // in originals/, both to come back at their keys.
    let work = TempDir::new().unwrap();
    let photo = work.path().join("harbour.jpg");
    std::fs::write(
        &photo,
        blog_test_support::photos::photo(blog_test_support::photos::Photo {
            width: 400,
            height: 300,
            orientation: 1,
            seed: 3,
        }),
    )
    .unwrap();
    let out = blog(&first.base, &["upload", photo.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let originals = api_json(&first.base, "/api/assets")["originals"].clone();
    assert_eq!(originals.as_array().unwrap().len(), 1, "{originals}");

    let export = TempDir::new().unwrap();
    let dir = export.path().join("export");
    let out = blog(&first.base, &["export", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let key = originals[0].as_str().unwrap();
    assert_eq!(
        std::fs::read(dir.join("originals").join(key)).unwrap(),
        std::fs::read(&photo).unwrap(),
        "the original comes out byte for byte, through a presigned download"
    );
    let empty = TempDir::new().unwrap();
    let second = serve_dynamo(empty.path());
    let out = blog(&second.base, &["import", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        api_json(&second.base, "/api/assets"),
        api_json(&first.base, "/api/assets")
    );
    let (a, b) = (everything(&first.base), everything(&second.base));
    assert_eq!(a.len(), b.len());
    for ((path, x), (other, y)) in a.iter().zip(&b) {
        assert_eq!(path, other);
        assert!(x == y, "{path} differs");
    }
    // A file put back where other bytes are is refused, and nothing changes.
    let served = api_json(&second.base, "/api/assets")["assets"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let mut res = agent()
        .put(format!("{}/api/assets/files/assets/{served}", second.base))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send(&b"other bytes"[..])
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        409,
        "{}",
        res.body_mut().read_to_string().unwrap()
    );
    assert_eq!(
        get(&format!("{}/assets/{served}", second.base)).3,
        get(&format!("{}/assets/{served}", first.base)).3
    );
}
