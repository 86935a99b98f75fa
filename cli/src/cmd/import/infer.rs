//! `--infer`: a header for a file that has none (Flask apps often kept title and
//! date outside the Markdown), from what the file itself shows.

use std::path::Path;
use std::process::Command;

/// The source with a header made for it, and a sentence saying where each value
/// came from. The first heading gives the title and, when it opens the file,
/// leaves the body (the page shows the title itself).
pub fn header(
    source: &str,
    file: &Path,
    name_date: Option<&str>,
) -> Result<(String, String), String> {
    let title = blog_core::frontmatter::first_heading(source).ok_or_else(|| {
        format!(
            "no front matter and no heading to take a title from: add a header such as\n{}",
            blog_core::frontmatter::suggested_header(source)
        )
    })?;
    let (date, from) = match name_date {
        Some(d) => (d.to_owned(), "its file name".to_owned()),
        None => match first_commit(file) {
            Some(d) => (d, "its first commit".to_owned()),
            None => (modified(file)?, "its modification time".to_owned()),
        },
    };
    let body = without_leading_heading(source, &title);
    let quoted = serde_json::to_string(&title).unwrap_or_default();
    Ok((
        format!("---\ntitle: {quoted}\ndate: {date}\n---\n{body}"),
        format!("no front matter: the title \"{title}\" is its first heading and the date {date} is from {from} (--infer)"),
    ))
}

/// `source` without its first line when that line is the heading `title` came from.
fn without_leading_heading<'a>(source: &'a str, title: &str) -> &'a str {
    let start = source.len() - source.trim_start().len();
    let rest = &source[start..];
    let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
    if line.starts_with("# ") && line.contains(title) {
        after.trim_start_matches('\n')
    } else {
        source
    }
}

/// When git first saw the file (its history followed through renames), RFC 3339.
fn first_commit(file: &Path) -> Option<String> {
    let dir = file.parent()?;
    let name = file.file_name()?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "--follow", "--format=%aI", "--"])
        .arg(name)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
}

/// The file's modification time, UTC, RFC 3339.
fn modified(file: &Path) -> Result<String, String> {
    let time = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map_err(|e| format!("reading its modification time: {e}"))?;
    let time: chrono::DateTime<chrono::Utc> = time.into();
    Ok(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_from_the_heading_and_date_from_the_name_or_the_file() {
        let dir = tempfile::TempDir::new().unwrap();
        let file = dir.path().join("trip.md");
        std::fs::write(&file, "# My trip\n\nIt rained.\n").unwrap();
        let (src, said) = header("# My trip\n\nIt rained.\n", &file, Some("2020-01-02")).unwrap();
        assert_eq!(
            src,
            "---\ntitle: \"My trip\"\ndate: 2020-01-02\n---\nIt rained.\n"
        );
        assert!(said.contains("from its file name"), "{said}");
        // Not a git repository: the modification time.
        let (src, said) = header("Intro.\n\n## Part one\n", &file, None).unwrap();
        assert!(
            src.starts_with("---\ntitle: \"Part one\"\ndate: 20"),
            "{src}"
        );
        assert!(src.ends_with("---\nIntro.\n\n## Part one\n"), "{src}");
        assert!(said.contains("modification time"), "{said}");
        let e = header("just text\n", &file, None).unwrap_err();
        assert!(e.contains("title:"), "{e}");
    }
}
