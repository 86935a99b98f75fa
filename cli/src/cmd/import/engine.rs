//! Each engine's conventions: how to tell its folders apart, what it names a post
//! after, and the address it served the post at (kept as an alias, so old links
//! and search results land on the new page with a 301).

use std::path::{Path, PathBuf};

use blog_core::frontmatter::FrontMatter;
use chrono::Datelike;
use clap::ValueEnum;

/// A blog engine whose folders `blog import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// `_posts/2024-05-01-name.md`, served at `_config.yml`'s `permalink`.
    Jekyll,
    /// `content/<section>/name.md` or `name/index.md`, served at `/<section>/name/`.
    Hugo,
    /// `content/<section>/name.md`, served at `/<section>/name/`.
    Zola,
    /// Flask-FlatPages: `pages/name.md`, served at `/post/name/`.
    Flatpages,
}

impl Engine {
    /// The engine's name as its documentation writes it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Jekyll => "Jekyll",
            Engine::Hugo => "Hugo",
            Engine::Zola => "Zola",
            Engine::Flatpages => "Flask-FlatPages",
        }
    }
}

/// The engine a folder was written for, and what showed it.
pub fn detect(root: &Path) -> (Engine, String) {
    let has = |name: &str| root.join(name).exists();
    let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap_or_default();
    if let Some(f) = ["_config.yml", "_config.yaml", "_config.toml", "_posts"]
        .into_iter()
        .find(|f| has(f))
    {
        return (Engine::Jekyll, format!("found {f}"));
    }
    if let Some(f) = ["hugo.toml", "hugo.yaml", "hugo.json", "config.yaml"]
        .into_iter()
        .find(|f| has(f))
    {
        return (Engine::Hugo, format!("found {f}"));
    }
    let config = read("config.toml");
    if config.contains("base_url") {
        return (Engine::Zola, "config.toml sets base_url".into());
    }
    if config.to_ascii_lowercase().contains("baseurl") {
        return (Engine::Hugo, "config.toml sets baseURL".into());
    }
    (
        Engine::Flatpages,
        "no Jekyll, Hugo or Zola configuration".into(),
    )
}

/// What an engine knows of one post file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFile {
    /// The name this blog gives it (the slug when the front matter has none).
    pub name: String,
    /// A date its file name carries (Jekyll, and Zola when it has one).
    pub date: Option<String>,
    /// The engine's own name for it in URLs.
    pub engine_name: String,
    /// Folders between the content root and the post (Hugo and Zola sections).
    pub section: String,
}

/// Reads a post file's path by its engine's conventions.
pub fn post_file(engine: Engine, root: &Path, file: &Path) -> PostFile {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("post");
    let bundle = stem == "index";
    let stem = if bundle {
        file.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or(stem)
    } else {
        stem
    };
    let dated = stem.get(..10).filter(|d| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
            && matches!(stem.as_bytes().get(10), Some(b'-' | b'_'))
    });
    let (name, date) = match dated {
        Some(d) => (stem[11..].to_owned(), Some(d.to_owned())),
        None => (stem.to_owned(), None),
    };
    let relative = file.strip_prefix(root).unwrap_or(file);
    let mut folders: Vec<String> = relative
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect();
    if bundle {
        folders.pop();
    }
    if folders.first().map(String::as_str) == Some("content") {
        folders.remove(0);
    }
    let engine_name = match engine {
        // Hugo names a page by its whole file name, a date in it included.
        Engine::Hugo => stem.to_owned(),
        Engine::Jekyll | Engine::Zola => name.clone(),
        // FlatPages names a page by its path under the pages folder.
        Engine::Flatpages => {
            let under: Vec<&str> = folders
                .iter()
                .map(String::as_str)
                .skip_while(|f| *f == "pages")
                .collect();
            under
                .into_iter()
                .chain([stem])
                .collect::<Vec<_>>()
                .join("/")
        }
    };
    let section = match engine {
        Engine::Hugo | Engine::Zola => folders.join("/"),
        Engine::Jekyll | Engine::Flatpages => String::new(),
    };
    PostFile {
        name,
        date,
        engine_name,
        section,
    }
}

/// The URL patterns an engine served posts at, `{…}` placeholders as
/// `--old-urls` takes them.
pub fn default_patterns(engine: Engine, root: &Path) -> Vec<String> {
    match engine {
        Engine::Jekyll => vec![jekyll_pattern(root)],
        Engine::Hugo | Engine::Zola => vec!["/{section}/{engine_name}/".into()],
        Engine::Flatpages => vec!["/post/{engine_name}/".into()],
    }
}

/// `_config.yml`'s `permalink` (a built-in style or a pattern), in `{…}` form.
fn jekyll_pattern(root: &Path) -> String {
    let config = std::fs::read_to_string(root.join("_config.yml")).unwrap_or_default();
    let setting = config
        .lines()
        .find_map(|l| l.strip_prefix("permalink:"))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_owned())
        .unwrap_or_else(|| "date".into());
    // https://jekyllrb.com/docs/permalinks/#built-in-formats
    let pattern = match setting.as_str() {
        "date" => "/:categories/:year/:month/:day/:title:output_ext",
        "pretty" => "/:categories/:year/:month/:day/:title/",
        "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
        "weekdate" => "/:categories/:year/W:week/:short_day/:title:output_ext",
        "none" => "/:categories/:title:output_ext",
        other => other,
    };
    let mut out = pattern.to_owned();
    for word in [
        "categories",
        "year",
        "month",
        "day",
        "i_month",
        "i_day",
        "short_year",
        "y_day",
        "title",
        "slug",
        "output_ext",
    ] {
        out = out.replace(&format!(":{word}"), &format!("{{{word}}}"));
    }
    out
}

/// Fills a pattern for one post. Placeholders: `{slug}` (the new slug), `{name}`
/// (the file's name), `{engine_name}`, `{section}`, `{year}`, `{month}`, `{day}`,
/// `{i_month}`, `{i_day}`, `{short_year}`, `{y_day}`, `{title}` (Jekyll: the file's
/// name), `{categories}` and `{output_ext}` (`.html`). An unknown one is an error.
pub fn fill(
    pattern: &str,
    file: &PostFile,
    slug: &str,
    front: &FrontMatter,
) -> Result<String, String> {
    let d = front.date.get();
    let categories: Vec<String> = front.categories.iter().map(|c| c.to_lowercase()).collect();
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("\"{pattern}\" has a '{{' without its '}}'"))?;
        let word = &rest[open + 1..open + close];
        let value = match word {
            "slug" => slug.to_owned(),
            "name" | "title" => file.name.clone(),
            "engine_name" => file.engine_name.clone(),
            "section" => file.section.clone(),
            "year" => format!("{:04}", d.year()),
            "month" => format!("{:02}", d.month()),
            "day" => format!("{:02}", d.day()),
            "i_month" => d.month().to_string(),
            "i_day" => d.day().to_string(),
            "short_year" => format!("{:02}", d.year() % 100),
            "y_day" => format!("{:03}", d.ordinal()),
            "categories" => categories.join("/"),
            "output_ext" => ".html".to_owned(),
            other => {
                return Err(format!(
                    "\"{pattern}\" has {{{other}}}, which is not a placeholder: use {{slug}}, {{name}}, {{year}}, {{month}}, {{day}}, {{section}} or {{categories}}"
                ))
            }
        };
        out.push_str(&value);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    // Jekyll drops the empty segments an absent category leaves.
    let mut path = String::from("/");
    for segment in out.split('/').filter(|s| !s.is_empty()) {
        path.push_str(segment);
        path.push('/');
    }
    if !out.ends_with('/') {
        path.pop();
    }
    Ok(path)
}

/// Every post file under `dir`: `.md` and `.markdown`, but not `_index.md` section
/// pages, `README.md` or hidden folders; in Jekyll, not drafts' or `_site` copies.
pub fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
        if name.starts_with('.') || name == "_site" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            collect(&path, out)?;
        } else if (name.ends_with(".md") || name.ends_with(".markdown"))
            && !name.eq_ignore_ascii_case("readme.md")
            && name != "_index.md"
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front(src: &str) -> FrontMatter {
        blog_core::frontmatter::parse(src).unwrap().front
    }

    #[test]
    fn names_follow_each_engine() {
        let root = Path::new("/site");
        let jekyll = post_file(
            Engine::Jekyll,
            root,
            Path::new("/site/_posts/2024-05-01-hello-there.md"),
        );
        assert_eq!(
            (jekyll.name.as_str(), jekyll.date.as_deref()),
            ("hello-there", Some("2024-05-01"))
        );
        let hugo = post_file(
            Engine::Hugo,
            root,
            Path::new("/site/content/post/2016-09-12-retreat.md"),
        );
        assert_eq!(hugo.name, "retreat");
        assert_eq!(hugo.engine_name, "2016-09-12-retreat");
        assert_eq!(hugo.section, "post");
        let bundle = post_file(
            Engine::Hugo,
            root,
            Path::new("/site/content/posts/my-trip/index.md"),
        );
        assert_eq!(
            (bundle.name.as_str(), bundle.section.as_str()),
            ("my-trip", "posts")
        );
        let flat = post_file(
            Engine::Flatpages,
            root,
            Path::new("/site/pages/notes/about.md"),
        );
        assert_eq!(
            (flat.name.as_str(), flat.engine_name.as_str()),
            ("about", "notes/about")
        );
    }

    #[test]
    fn patterns_fill_like_the_engines() {
        let root = tempfile::TempDir::new().unwrap();
        assert_eq!(
            jekyll_pattern(root.path()),
            "/{categories}/{year}/{month}/{day}/{title}{output_ext}"
        );
        std::fs::write(
            root.path().join("_config.yml"),
            "title: x\npermalink: /blog/:year/:i_month/:title/\n",
        )
        .unwrap();
        assert_eq!(
            jekyll_pattern(root.path()),
            "/blog/{year}/{i_month}/{title}/"
        );

        let file = post_file(
            Engine::Jekyll,
            Path::new("/s"),
            Path::new("/s/_posts/2018-05-19-hello.md"),
        );
        let plain = front("---\ntitle: T\ndate: 2018-05-19 10:30:00 -0500\n---\n");
        let filed = front("---\ntitle: T\ndate: 2018-05-19\ncategories: [Rust, web]\n---\n");
        let date = "/{categories}/{year}/{month}/{day}/{title}{output_ext}";
        assert_eq!(
            fill(date, &file, "hello", &plain).unwrap(),
            "/2018/05/19/hello.html"
        );
        assert_eq!(
            fill(date, &file, "hello", &filed).unwrap(),
            "/rust/web/2018/05/19/hello.html"
        );
        assert_eq!(
            fill("/blog/{slug}", &file, "hi", &plain).unwrap(),
            "/blog/hi"
        );
        assert!(fill("/{nope}/", &file, "hi", &plain)
            .unwrap_err()
            .contains("{nope}"));
    }
}
