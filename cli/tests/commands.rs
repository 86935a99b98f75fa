//! The `blog` command's other subcommands and its errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use assert_cmd::Command;

fn blog() -> Command {
    let mut cmd = Command::cargo_bin("blog").unwrap();
    cmd.env_clear();
    cmd
}

#[test]
fn new_writes_a_draft_skeleton_that_parses() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = blog()
        .args([
            "new",
            "Hello, Wörld: a \"quoted\" title",
            "--tags",
            "Rust,web dev",
            "--content",
        ])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    assert!(stdout.contains("hello-world-a-quoted-title.md"), "{stdout}");
    let path = dir.path().join("hello-world-a-quoted-title.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let post = blog_core::authoring::compile(&text, Some("hello-world-a-quoted-title")).unwrap();
    assert_eq!(post.title, "Hello, Wörld: a \"quoted\" title");
    assert!(post.draft);
    assert_eq!(
        post.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["rust", "web dev"]
    );
    assert_eq!(
        post.date.get().date_naive(),
        chrono::Local::now().date_naive()
    );

    // Never overwrites.
    let err = blog()
        .args(["new", "Hello, Wörld: a \"quoted\" title", "--content"])
        .arg(dir.path())
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(err).unwrap();
    assert!(
        stderr.contains("cannot create") && stderr.contains("--slug"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn new_refuses_a_title_that_makes_no_slug() {
    let dir = tempfile::TempDir::new().unwrap();
    let assert = blog()
        .args(["new", "!!!", "--content"])
        .arg(dir.path())
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("\"slug\"") && stderr.contains("slug: my-post"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn serve_explains_a_missing_content_folder() {
    let assert = blog()
        .args(["serve", "--port", "0", "--content", "/no/such/folder"])
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("/no/such/folder") && stderr.contains("--content"),
        "{stderr}"
    );
}

#[test]
fn serve_explains_bad_settings() {
    let dir = tempfile::TempDir::new().unwrap();
    let assert = blog()
        .args(["serve", "--port", "0", "--content"])
        .arg(dir.path())
        .env("BLOG_PER_PAGE", "lots")
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("BLOG_PER_PAGE") && stderr.contains("whole number"),
        "{stderr}"
    );
}
