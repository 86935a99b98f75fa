//! The pipeline's last step, `scripts/publish-changed.sh`, run here as the workflow
//! runs it: in a repository whose `content/` changed between two commits, against
//! a real `blog serve`. Added and modified posts are published, a removed post is
//! taken down by the slug its old file gave it, untouched posts stay as they are,
//! and a first push (GitHub's forty zeros as "before") publishes the whole tree.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;
use std::process::Command;

use blog_e2e::api::TOKEN;
use blog_e2e::serve::BlogServe;
use tempfile::TempDir;

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Author",
            "-c",
            "user.email=author@example.com",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn post(title: &str, extra: &str) -> String {
    format!("---\ntitle: {title}\ndate: 2025-01-02\n{extra}---\nBody of {title}.\n")
}

fn fetch(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut res = agent.get(url).call().unwrap();
    let body = res.body_mut().read_to_string().unwrap_or_default();
    (res.status().as_u16(), body)
}

fn publish_changed(repo: &Path, server: &str, before: &str, after: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/publish-changed.sh");
    let out = Command::new("bash")
        .arg(script)
        .args([before, after])
        .current_dir(repo)
        .env("BLOG_ENDPOINT", server)
        .env("BLOG_TOKEN", TOKEN)
        .env("BLOG", env!("CARGO_BIN_EXE_blog"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "publish-changed.sh: {text}");
    text
}

#[test]
fn the_pipeline_publishes_what_a_push_changed_in_content_and_takes_down_what_it_removed() {
    let repo = TempDir::new().unwrap();
    let r = repo.path();
    git(r, &["init", "--quiet", "--initial-branch", "main"]);
    std::fs::create_dir(r.join("content")).unwrap();
    std::fs::write(r.join("content/keep.md"), post("Kept", "")).unwrap();
    std::fs::write(r.join("content/edit.md"), post("Before the edit", "")).unwrap();
    // Its slug is in its front matter, not its file name.
    std::fs::write(
        r.join("content/old-file.md"),
        post("Removed later", "slug: gone-for-good\n"),
    )
    .unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "--quiet", "-m", "first posts"]);
    let first = git(r, &["rev-parse", "HEAD"]);

    // The site as the first push left it: every post of the first commit.
    let served = TempDir::new().unwrap();
    let server = BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--content", served.path().to_str().unwrap()],
        &[("BLOG_TOKEN".into(), TOKEN.into())],
    );
    let zeros = "0".repeat(40);
    let out = publish_changed(r, &server.base, &zeros, &first);
    assert!(out.contains("publishing 3 changed post(s)"), "{out}");
    assert_eq!(
        fetch(&format!("{}/posts/gone-for-good/", server.base)).0,
        200
    );

    // The second push: one edit, one new post, one removal.
    std::fs::write(r.join("content/edit.md"), post("After the edit", "")).unwrap();
    std::fs::write(r.join("content/new.md"), post("Brand new", "")).unwrap();
    std::fs::remove_file(r.join("content/old-file.md")).unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "--quiet", "-m", "edit, add, remove"]);
    let second = git(r, &["rev-parse", "HEAD"]);
    let kept = served.path().join("keep.md");
    let keep_before = std::fs::read(&kept).unwrap();
    let modified_before = std::fs::metadata(&kept).unwrap().modified().unwrap();
    let out = publish_changed(r, &server.base, &first, &second);
    assert!(out.contains("publishing 2 changed post(s)"), "{out}");
    assert!(out.contains("deleted gone-for-good"), "{out}");

    // The same range again (a rerun): nothing fails, the removed post stays gone.
    let out = publish_changed(r, &server.base, &first, &second);
    assert!(
        out.contains("gone-for-good is not there: nothing to delete"),
        "{out}"
    );

    let (status, body) = fetch(&format!("{}/posts/edit/", server.base));
    assert_eq!(status, 200);
    assert!(body.contains("After the edit"), "{body}");
    assert_eq!(fetch(&format!("{}/posts/new/", server.base)).0, 200);
    assert_eq!(
        fetch(&format!("{}/posts/gone-for-good/", server.base)).0,
        404
    );
    // The untouched post was not written again (its page's neighbour links move,
    // which is the new posts' doing).
    assert_eq!(std::fs::read(&kept).unwrap(), keep_before);
    assert_eq!(
        std::fs::metadata(&kept).unwrap().modified().unwrap(),
        modified_before
    );
    assert_eq!(fetch(&format!("{}/posts/keep/", server.base)).0, 200);

    // A push that changed no post sends nothing.
    std::fs::write(r.join("README.md"), "notes\n").unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "--quiet", "-m", "notes"]);
    let third = git(r, &["rev-parse", "HEAD"]);
    let out = publish_changed(r, &server.base, &second, &third);
    assert!(out.contains("no post changed in content/"), "{out}");
}
