//! `blog new "Title"`: a post skeleton with a good slug and today's date.

use std::io::Write;

use anyhow::{bail, Context};
use blog_core::authoring::slugify;
use blog_core::post::{Slug, Tag};

use crate::cli::NewArgs;

/// Writes `<content>/<slug>.md`, refusing to overwrite.
pub fn run(args: NewArgs) -> anyhow::Result<()> {
    let title = args.title.trim();
    if title.is_empty() {
        bail!("the title is empty: run blog new \"My post title\"");
    }
    let slug = match &args.slug {
        Some(s) => Slug::parse(s)?,
        None => slugify(title, "title")?,
    };
    let tags = args
        .tags
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Tag::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    if !args.content.is_dir() {
        bail!(
            "content folder {} does not exist: create it or pass --content DIR",
            args.content.display()
        );
    }
    let path = args.content.join(format!("{slug}.md"));
    let text = skeleton(title, &tags, chrono::Local::now().date_naive());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot create {} (pick another title, or pass --slug)",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "Created {} (a draft: change `draft: true` to `draft: false` to publish it)",
        path.display()
    );
    println!("Preview it with `blog serve`; the post's URL will be /posts/{slug}/");
    Ok(())
}

fn skeleton(title: &str, tags: &[Tag], date: chrono::NaiveDate) -> String {
    // YAML double-quoted with escapes, so any title round-trips.
    let quoted = yaml_quoted(title);
    let tags = tags
        .iter()
        .map(|t| yaml_quoted(t.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "---\ntitle: {quoted}\ndate: {date}\ntags: [{tags}]\ndraft: true\n---\n\n\
         The first paragraph is the summary shown on the home page and in feeds.\n\n\
         <!-- more -->\n\n## A first section\n\nWrite here. Code blocks are highlighted:\n\n\
         ```rust\nfn main() {{\n    println!(\"hello\");\n}}\n```\n"
    )
}

fn yaml_quoted(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_parses_back_as_a_draft() {
        let tags = [Tag::parse("rust").unwrap()];
        let date = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let text = skeleton("Quotes \" and: colons \\ ok", &tags, date);
        let post = blog_core::authoring::compile(&text, Some("x")).unwrap();
        assert_eq!(post.title, "Quotes \" and: colons \\ ok");
        assert!(post.draft);
        assert_eq!(post.tags, tags);
        assert_eq!(post.date.get().date_naive(), date);
    }
}
