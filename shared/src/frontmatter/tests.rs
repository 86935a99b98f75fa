//! Table-driven tests of the three front matter forms and of every error's field and line.

use super::*;

fn ymd(s: &str) -> PostDate {
    PostDate::new(parse_date(s).unwrap()).unwrap()
}

#[test]
fn the_three_forms_parse_to_the_same_fields() {
    let yaml = "---\ntitle: Hello, world\ndate: 2024-05-01\ntags: [Rust, aws]\npublished: true\n---\nBody *here*.\n";
    let toml = "+++\ntitle = \"Hello, world\"\ndate = 2024-05-01\ntags = [\"Rust\", \"aws\"]\npublished = true\n+++\nBody *here*.\n";
    let flat = "title: Hello, world\ndate: 2024-05-01\ntags: [Rust, aws]\npublished: True\n\nBody *here*.\n";
    for (name, src) in [("yaml", yaml), ("toml", toml), ("flatpages", flat)] {
        let doc = parse(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.front.title, "Hello, world", "{name}");
        assert_eq!(doc.front.date, ymd("2024-05-01"), "{name}");
        assert_eq!(
            doc.front.tags,
            vec![Tag::parse("rust").unwrap(), Tag::parse("aws").unwrap()],
            "{name}"
        );
        assert!(!doc.front.draft, "{name}");
        assert_eq!(doc.body, "Body *here*.\n", "{name}");
    }
}

#[test]
fn yaml_1_1_booleans_as_flask_flatpages_writes_them() {
    let cases = [
        ("True", false),
        ("true", false),
        ("yes", false),
        ("Yes", false),
        ("on", false),
        ("y", false),
        ("False", true),
        ("No", true),
        ("no", true),
        ("off", true),
        ("N", true),
    ];
    for (word, draft) in cases {
        let src = format!("title: T\ndate: 2024-01-01\npublished: {word}\n\nbody\n");
        assert_eq!(parse(&src).unwrap().front.draft, draft, "published: {word}");
    }
    let src = "---\ntitle: T\ndate: 2024-01-01\ndraft: yes\n---\n";
    assert!(parse(src).unwrap().front.draft);
}

#[test]
fn optional_fields_are_read() {
    let src = "---\ntitle: T\ndate: 2024-05-01T09:30:00+02:00\nupdated: 2024-06-01\n\
               description: A post.\nslug: custom-slug\naliases: [/old/path/, \"/2019/x.html\", /über/]\n\
               image: /assets/card.png\ntags: rust, web dev, Rust\n---\n";
    let f = parse(src).unwrap().front;
    assert_eq!(f.date, ymd("2024-05-01T09:30:00+02:00"));
    assert_eq!(f.updated, Some(ymd("2024-06-01")));
    assert_eq!(f.summary.as_deref(), Some("A post."));
    assert_eq!(f.slug.unwrap().as_str(), "custom-slug");
    assert_eq!(f.aliases, vec!["/old/path/", "/2019/x.html", "/%C3%BCber/"]);
    assert_eq!(f.image.as_deref(), Some("/assets/card.png"));
    let tags: Vec<_> = f.tags.iter().map(Tag::as_str).collect();
    assert_eq!(tags, ["rust", "web dev"]);
}

#[test]
fn date_forms() {
    for (s, want) in [
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00+00:00"),
        ("2024-05-01T09:30:00-05:00", "2024-05-01T09:30:00-05:00"),
        ("2024-05-01 09:30", "2024-05-01T09:30:00+00:00"),
        ("2024-05-01 09:30:15", "2024-05-01T09:30:15+00:00"),
    ] {
        assert_eq!(parse_date(s).unwrap().to_rfc3339(), want, "{s}");
    }
    for bad in ["12/05/2024", "2024-13-01", "May 1", ""] {
        assert!(parse_date(bad).is_none(), "{bad}");
    }
}

/// (name, source, field, line)
const ERRORS: &[(&str, &str, Option<&str>, Option<usize>)] = &[
    (
        "too many tags",
        "---\ntitle: x\ndate: 2024-01-01\ntags: [a, b, c, d, e, f, g, h, i, j, k]\n---\n",
        Some("tags"),
        Some(4),
    ),
    (
        "yaml missing title",
        "---\ndate: 2024-01-01\n---\n",
        Some("title"),
        None,
    ),
    (
        "toml missing date",
        "+++\ntitle = \"x\"\n+++\n",
        Some("date"),
        None,
    ),
    ("flat missing date", "title: x\n\nbody", Some("date"), None),
    (
        "yaml bad date",
        "---\ntitle: x\ndate: 12/05/2024\n---\n",
        Some("date"),
        Some(3),
    ),
    (
        "toml bad date",
        "+++\ntitle = \"x\"\n\ndate = \"May 1\"\n+++\n",
        Some("date"),
        Some(4),
    ),
    (
        "flat bad date",
        "title: x\ndate: yesterday\n\n",
        Some("date"),
        Some(2),
    ),
    (
        "bad updated",
        "---\ntitle: x\ndate: 2024-01-01\nupdated: soon\n---\n",
        Some("updated"),
        Some(4),
    ),
    (
        "empty title",
        "---\ntitle: \"\"\ndate: 2024-01-01\n---\n",
        Some("title"),
        Some(2),
    ),
    (
        "title is a list",
        "---\ntitle: [a, b]\ndate: 2024-01-01\n---\n",
        Some("title"),
        Some(2),
    ),
    (
        "bad published",
        "---\ntitle: x\ndate: 2024-01-01\npublished: maybe\n---\n",
        Some("published"),
        Some(4),
    ),
    (
        "contradiction",
        "---\ntitle: x\ndate: 2024-01-01\npublished: true\ndraft: true\n---\n",
        Some("draft"),
        Some(5),
    ),
    (
        "bad slug",
        "---\ntitle: x\ndate: 2024-01-01\nslug: Not A Slug\n---\n",
        Some("slug"),
        Some(4),
    ),
    (
        "bad tag",
        "---\ntitle: x\ndate: 2024-01-01\ntags: [a/b]\n---\n",
        Some("tags"),
        Some(4),
    ),
    (
        "tags is a table",
        "---\ntitle: x\ndate: 2024-01-01\ntags:\n  a: 1\n---\n",
        Some("tags"),
        Some(4),
    ),
    (
        "relative alias",
        "---\ntitle: x\ndate: 2024-01-01\naliases: [old/path]\n---\n",
        Some("aliases"),
        Some(4),
    ),
    (
        "full URL alias",
        "---\ntitle: x\ndate: 2024-01-01\naliases: [\"https://evil.example/\"]\n---\n",
        Some("aliases"),
        Some(4),
    ),
    (
        "year 0 and below",
        "---\ntitle: x\ndate: -0001-01-01\n---\n",
        Some("date"),
        Some(3),
    ),
    (
        "year 10000",
        "---\ntitle: x\ndate: 2024-01-01\nupdated: +10000-01-01\n---\n",
        Some("updated"),
        Some(4),
    ),
    (
        "year 1 that is year 0 in UTC",
        "---\ntitle: x\ndate: 0001-01-01T00:30:00+01:00\n---\n",
        Some("date"),
        Some(3),
    ),
    (
        "dotdot alias",
        "---\ntitle: x\ndate: 2024-01-01\naliases: [/a/../b]\n---\n",
        Some("aliases"),
        Some(4),
    ),
    (
        "bad image",
        "---\ntitle: x\ndate: 2024-01-01\nimage: javascript:alert(1)\n---\n",
        Some("image"),
        Some(4),
    ),
    (
        "unclosed yaml",
        "---\ntitle: x\ndate: 2024-01-01\n",
        None,
        Some(1),
    ),
    ("unclosed toml", "+++\ntitle = \"x\"\n", None, Some(1)),
    ("no front matter", "# Just a heading\n\ntext", None, Some(1)),
    (
        "yaml syntax",
        "---\ntitle: x\ndate: 2024-01-01\ntags: [a, b\n---\n",
        None,
        Some(5),
    ),
    (
        "toml syntax",
        "+++\ntitle = \"x\"\ndate = \n+++\n",
        None,
        Some(3),
    ),
    ("yaml not a map", "---\n- a\n- b\n---\n", None, Some(2)),
];

#[test]
fn every_error_names_its_field_and_line() {
    for (name, src, field, line) in ERRORS {
        let err = parse(src).expect_err(name);
        assert_eq!(err.field.as_deref(), *field, "{name}: {err}");
        assert_eq!(err.line, *line, "{name}: {err}");
        assert!(!err.message.is_empty(), "{name}");
    }
}

#[test]
fn error_messages_say_what_is_expected() {
    let err = parse("---\ntitle: x\ndate: 12/05/2024\n---\n")
        .unwrap_err()
        .in_file("posts/a.md");
    assert_eq!(
        err.to_string(),
        "posts/a.md: line 3: \"date\" must be YYYY-MM-DD, RFC 3339 (2024-05-01T09:30:00Z) or YYYY-MM-DD HH:MM:SS +HHMM, got \"12/05/2024\""
    );
    let err = parse("---\ndate: 2024-01-01\n---\n").unwrap_err();
    assert!(err.to_string().contains("\"title\" is missing"), "{err}");
}

#[test]
fn crlf_and_bom_are_accepted() {
    let src = "\u{feff}---\r\ntitle: T\r\ndate: 2024-01-01\r\n---\r\nBody\r\n";
    let doc = parse(src).unwrap();
    assert_eq!(doc.front.title, "T");
    assert_eq!(doc.body, "Body\n");
}

#[test]
fn flatpages_body_starts_after_the_first_blank_line() {
    let doc = parse("title: T\ndate: 2024-01-01\n\nFirst.\n\nSecond.\n").unwrap();
    assert_eq!(doc.body, "First.\n\nSecond.\n");
}

#[test]
fn zola_taxonomies_give_the_tags() {
    let doc = parse("+++\ntitle = \"Z\"\ndate = 2024-01-01\n\n[taxonomies]\ntags = [\"Rust\", \"web\"]\n+++\nBody\n").unwrap();
    let tags: Vec<&str> = doc.front.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["rust", "web"]);
}

#[test]
fn dates_without_an_offset_are_read_in_the_sites_time_zone() {
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    for (s, want) in [
        ("2026-12-01 09:00", "2026-12-01T09:00:00+01:00"),
        ("2026-07-01 09:00", "2026-07-01T09:00:00+02:00"),
        ("2026-12-01", "2026-12-01T00:00:00+01:00"),
        // An offset written in the date wins.
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00+00:00"),
        // The repeated hour when the clocks go back: the earlier one.
        ("2026-10-25 02:30", "2026-10-25T02:30:00+02:00"),
    ] {
        assert_eq!(
            parse_date_in(s, berlin).unwrap().unwrap().to_rfc3339(),
            want,
            "{s}"
        );
    }
    // A date alone where the clocks skip midnight: the first hour that exists.
    let havana: Tz = "America/Havana".parse().unwrap();
    let start = parse_date_in("2026-03-08", havana).unwrap().unwrap();
    assert_eq!(start.to_rfc3339(), "2026-03-08T01:00:00-04:00");
    // The hour the clocks skip is refused, saying why.
    let gap = parse_date_in("2026-03-29 02:30", berlin).unwrap_err();
    assert!(
        gap.contains("does not exist") && gap.contains("Europe/Berlin"),
        "{gap}"
    );
    let post = crate::authoring::compile_in(
        "---\ntitle: T\ndate: 2026-03-29 02:30\n---\nx\n",
        None,
        berlin,
    )
    .unwrap_err();
    assert_eq!((post.field.as_deref(), post.line), (Some("date"), Some(3)));
    let post = crate::authoring::compile_in(
        "---\ntitle: T\ndate: 2026-12-01 09:00\n---\nx\n",
        None,
        berlin,
    )
    .unwrap();
    assert_eq!(post.date.utc().to_rfc3339(), "2026-12-01T08:00:00+00:00");
}

#[test]
fn each_engines_dates_as_its_documentation_writes_them() {
    let cases = [
        // Jekyll: date, time, numeric offset.
        ("2018-05-19 10:30:00 -0500", "2018-05-19T10:30:00-05:00"),
        ("2018-05-19 10:30 +0100", "2018-05-19T10:30:00+01:00"),
        (
            "2018-05-19 10:30:00.250 -0500",
            "2018-05-19T10:30:00.250-05:00",
        ),
        // Hugo (YAML or TOML) and Zola: RFC 3339, local date-times, fractions.
        ("2016-09-12T10:00:00-07:00", "2016-09-12T10:00:00-07:00"),
        ("2016-09-12T10:00:00", "2016-09-12T10:00:00Z"),
        ("2016-09-12T10:00:00.999", "2016-09-12T10:00:00.999Z"),
    ];
    for (written, meant) in cases {
        let src = format!("---\ntitle: T\ndate: {written}\n---\n");
        let f = parse(&src)
            .unwrap_or_else(|e| panic!("{written}: {e}"))
            .front;
        assert_eq!(f.date, ymd(meant), "{written}");
    }
    let toml = "+++\ntitle = \"T\"\ndate = 1979-05-27T07:32:00-08:00\nupdated = 1979-05-28T00:32:00.5\n+++\n";
    let f = parse(toml).unwrap().front;
    assert_eq!(f.date, ymd("1979-05-27T07:32:00-08:00"));
    assert_eq!(f.updated, Some(ymd("1979-05-28T00:32:00.5Z")));
}

#[test]
fn other_engines_names_for_the_same_fields() {
    let hugo = "---\ntitle: T\ndate: 2016-09-12\nlastmod: 2016-10-01\ncategories: [Elm]\ntags: [events, elm]\nurl: /2016/09/12/the-retreat/\naliases: [/old/]\n---\n";
    let doc = parse(hugo).unwrap();
    assert_eq!(doc.front.updated, Some(ymd("2016-10-01")));
    let tags: Vec<&str> = doc.front.tags.iter().map(Tag::as_str).collect();
    assert_eq!(tags, ["events", "elm"], "categories merge into tags once");
    assert_eq!(doc.front.old_paths, ["/2016/09/12/the-retreat/"]);
    assert_eq!(doc.front.aliases, ["/old/"]);
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);

    let jekyll = "---\ntitle: T\ndate: 2020-01-02\nlast_modified_at: 2020-02-03\npermalink: /:year/:title/\ncategory: notes\n---\n";
    let doc = parse(jekyll).unwrap();
    assert_eq!(doc.front.updated, Some(ymd("2020-02-03")));
    assert_eq!(doc.front.tags[0].as_str(), "notes");
    assert!(doc.front.old_paths.is_empty());
    assert!(
        doc.warnings[0]
            .to_string()
            .starts_with("line 5: \"permalink\" /:year/:title/ is not kept")
            && doc.warnings[0].message.contains("--old-urls"),
        "{:?}",
        doc.warnings
    );

    // An engine's address that this site itself serves is not an old address.
    let zola = "+++\ntitle = \"T\"\ndate = 2020-01-02\npath = \"tags/x\"\n+++\n";
    let doc = parse(zola).unwrap();
    assert!(doc.front.old_paths.is_empty());
    assert!(
        doc.warnings[0].message.contains("tag"),
        "{:?}",
        doc.warnings
    );
}

#[test]
fn keys_in_another_case_are_read_and_unknown_keys_are_named() {
    let src = "Title: Capitalised\nDATE: 2024-05-01\nPROJECT NAME: MY BLOG\nlayout: post\n\nBody\n";
    let doc = parse(src).unwrap();
    assert_eq!(doc.front.title, "Capitalised");
    assert_eq!(doc.front.date, ymd("2024-05-01"));
    let said: Vec<String> = doc.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 4, "{said:?}");
    assert!(
        said[0].starts_with("line 1: \"Title\" is read as \"title\""),
        "{said:?}"
    );
    assert!(
        said[1].starts_with("line 2: \"DATE\" is read as \"date\""),
        "{said:?}"
    );
    assert!(
        said[2].starts_with("line 3: \"PROJECT NAME\" is not a field"),
        "{said:?}"
    );
    assert!(
        said[3].starts_with("line 4: \"layout\" is not a field"),
        "{said:?}"
    );
    // Both spellings: the lowercase one is the field, the other is named.
    let both = "---\ntitle: a\nTitle: b\ndate: 2024-05-01\n---\n";
    let doc = parse(both).unwrap();
    assert_eq!(doc.front.title, "a");
    assert!(doc.warnings[0]
        .message
        .contains("\"Title\" repeats \"title\""));
    // Zola's taxonomies: tags and categories.
    let zola = "+++\ntitle = \"T\"\ndate = 2021-01-01\n[taxonomies]\ntags = [\"a\"]\ncategories = [\"b\"]\n+++\n";
    let tags: Vec<String> = parse(zola)
        .unwrap()
        .front
        .tags
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(tags, ["a", "b"]);
}

#[test]
fn a_file_without_front_matter_is_told_what_to_paste() {
    let e = parse("# My trip to Oslo\n\nIt rained.\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs a title and a date"), "{e}");
    assert!(
        e.contains("---\ntitle: \"My trip to Oslo\"\ndate: YYYY-MM-DD\n---\n"),
        "{e}"
    );
    assert_eq!(
        first_heading("```\n# not this\n```\n## Real one ##\n").as_deref(),
        Some("Real one")
    );
    assert_eq!(first_heading("#hashtag\ntext\n"), None);
}

#[test]
fn a_flatpages_header_without_its_blank_line_points_at_it() {
    for (src, line) in [
        ("title: T\ndate: 2024-05-01\n# Heading\nText.\n", 3),
        ("title: T\ndate: 2024-05-01\n# Heading\n\nText.\n", 3),
        ("title: T\ndate: 2024-05-01\nThe text starts here.\n", 3),
    ] {
        let e = parse(src).unwrap_err();
        assert_eq!(e.line, Some(line), "{src:?}: {e}");
        assert!(
            e.message.contains("add an empty line after line 2"),
            "{src:?}: {e}"
        );
    }
    // Comments between fields and indented lists are a header's own.
    let ok = "title: T\n# a comment\ndate: 2024-05-01\ntags:\n- a\n- b\n\nText.\n";
    assert_eq!(parse(ok).unwrap().body, "Text.\n");
}
