//! Markdown features and hostile input.

use super::*;

#[test]
fn github_flavoured_extensions() {
    let md = "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~gone~~ and https://example.com\n\n- [x] done\n- [ ] todo\n\nNote[^1].\n\n[^1]: The note.\n";
    let html = render(md).html;
    assert!(html.contains("<table tabindex=\"0\">"), "{html}");
    assert!(html.contains("<th class=\"al\">a</th>"), "{html}");
    assert!(html.contains("<td class=\"ar\">2</td>"), "{html}");
    assert!(!html.contains(" align="), "{html}");
    assert!(html.contains("<del>gone</del>"), "{html}");
    assert!(
        html.contains("<a href=\"https://example.com\">https://example.com</a>"),
        "{html}"
    );
    assert!(html.contains("type=\"checkbox\""), "{html}");
    assert!(
        html.contains("checked=\"\"") || html.contains("checked"),
        "{html}"
    );
    assert!(html.contains("class=\"footnotes\""), "{html}");
    assert!(html.contains("The note."), "{html}");
}

#[test]
fn headings_get_ids_anchor_links_and_a_toc() {
    let r = render("# Top\n\n## First part\n\ntext\n\n### Detail *here*\n\n## First part\n");
    assert!(r.html.contains("<h2 id=\"first-part\">"), "{}", r.html);
    assert!(r.html.contains("href=\"#first-part\""), "{}", r.html);
    assert!(r.html.contains("id=\"first-part-1\""), "{}", r.html);
    let toc: Vec<_> = r
        .toc
        .iter()
        .map(|e| (e.level, e.id.as_str(), e.title.as_str()))
        .collect();
    assert_eq!(
        toc,
        [
            (2, "first-part", "First part"),
            (3, "detail-here", "Detail here"),
            (2, "first-part-1", "First part")
        ]
    );
}

#[test]
fn summary_from_more_marker_or_first_paragraph() {
    let r = render("Intro **one**.\n\nTwo.\n\n<!--  MORE -->\n\nRest.\n");
    assert_eq!(
        r.summary_html.trim(),
        "<p>Intro <strong>one</strong>.</p>\n<p>Two.</p>"
    );
    assert_eq!(r.summary_text, "Intro one. Two.");
    assert!(r.html.contains("Rest."));
    assert!(
        !r.html.contains("more"),
        "the marker is removed: {}",
        r.html
    );

    let r = render("## Heading\n\nFirst [para](/x)[^n].\n\nSecond.\n\n[^n]: note\n");
    assert_eq!(
        r.summary_html.trim(),
        "<p>First <a href=\"/x\">para</a>.</p>"
    );
    assert_eq!(r.summary_text, "First para.");
}

#[test]
fn long_descriptions_are_shortened_at_a_word() {
    let long = "word ".repeat(100);
    let r = render(&long);
    assert!(r.summary_text.chars().count() <= DESCRIPTION_LEN + 1);
    assert!(r.summary_text.ends_with("word…"), "{}", r.summary_text);
}

#[test]
fn reading_time_counts_words() {
    assert_eq!(render("one two").reading_minutes, 1);
    assert_eq!(render(&"w ".repeat(221)).reading_minutes, 2);
    assert_eq!(render(&"w ".repeat(2200)).reading_minutes, 10);
}

#[test]
fn code_is_highlighted_with_classes_only() {
    let r =
        render("```rust\nfn main() { let s = \"<x>\"; }\n```\n\n```nosuchlang\n<b>&</b>\n```\n");
    assert!(
        r.html
            .contains("<pre lang=\"rust\"><code class=\"language-rust\">")
            || r.html.contains("class=\"language-rust\""),
        "{}",
        r.html
    );
    assert!(r.html.contains("class=\"hl-"), "{}", r.html);
    assert!(r.html.contains("&lt;x&gt;"), "{}", r.html);
    assert!(!r.html.contains("style="), "{}", r.html);
    assert!(r.html.contains("&lt;b&gt;&amp;&lt;/b&gt;"), "{}", r.html);
}

#[test]
fn raw_html_and_dangerous_links_never_pass_through() {
    let hostile = "<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)> \
                   [click](javascript:alert(1)) [v](vbscript:x) ![i](data:text/html;base64,AAAA)\n\n\
                   <iframe src=\"https://evil.example\"></iframe>\n\n<div onclick=\"x()\">d</div>\n";
    let html = render(hostile).html;
    for bad in [
        "<script",
        "<img src=x",
        "<iframe",
        "<div",
        "javascript:",
        "vbscript:",
        "data:text/html",
    ] {
        assert!(!html.contains(bad), "{bad} leaked: {html}");
    }
    assert!(html.contains("&lt;script&gt;"), "shown as text: {html}");
}

#[test]
fn attribute_injection_through_code_fence_info_is_escaped() {
    let html = render("```rust\" onmouseover=\"alert(1)\nx\n```\n").html;
    assert!(!html.contains("onmouseover=\"alert"), "{html}");
}

#[test]
fn heading_links_sit_beside_the_heading_not_inside_it() {
    let html = render("## A *b* & c\n\ntext\n").html;
    assert!(
        html.contains(
            "<div class=\"hd\"><h2 id=\"a-b--c\">A <em>b</em> &amp; c</h2><a class=\"anchor\" href=\"#a-b--c\" aria-label=\"Link to the section “A b &amp; c”\"></a></div>"
        ),
        "{html}"
    );
}

#[test]
fn images_get_their_size_and_load_lazily_after_the_first() {
    struct Sizes;
    impl ImageSizes for Sizes {
        fn size(&self, src: &str) -> Option<(u32, u32)> {
            (src == "/assets/a.png?x&y").then_some((640, 480))
        }
    }
    let html = render_with(
        "![one](/assets/a.png?x&y)\n\n![two](/b.png \"t\")\n",
        &Sizes,
    )
    .html;
    assert!(
        html.contains("<img src=\"/assets/a.png?x&amp;y\" width=\"640\" height=\"480\" decoding=\"async\" alt=\"one\""),
        "{html}"
    );
    assert!(
        html.contains(
            "<img src=\"/b.png\" loading=\"lazy\" decoding=\"async\" alt=\"two\" title=\"t\""
        ),
        "{html}"
    );
    let keyed = render("![k](/assets/k-0123456789abcdef-30x20.png)\n").html;
    assert!(keyed.contains("width=\"30\" height=\"20\""), "{keyed}");
}

#[test]
fn image_sets_render_as_pictures_with_every_width_and_format() {
    let html = render(
        "![Sea \"view\"](/assets/sea-0123456789abcdef/1600x1200.jpg \"t\")\n\n\
         ![b](/assets/b-0123456789abcdef/300x500.png)\n",
    )
    .html;
    let set = "/assets/sea-0123456789abcdef";
    let sizes = "(max-width: 42rem) calc(100vw - 2.5rem), 39.5rem";
    let expected = format!(
        "<picture>\
         <source type=\"image/avif\" srcset=\"{set}/480x360.avif 480w, {set}/720x540.avif 720w, {set}/960x720.avif 960w, {set}/1280x960.avif 1280w, {set}/1600x1200.avif 1600w\" sizes=\"{sizes}\">\
         <source type=\"image/webp\" srcset=\"{set}/480x360.webp 480w, {set}/720x540.webp 720w, {set}/960x720.webp 960w, {set}/1280x960.webp 1280w, {set}/1600x1200.webp 1600w\" sizes=\"{sizes}\">\
         <img src=\"{set}/1600x1200.jpg\" srcset=\"{set}/480x360.jpg 480w, {set}/720x540.jpg 720w, {set}/960x720.jpg 960w, {set}/1280x960.jpg 1280w, {set}/1600x1200.jpg 1600w\" sizes=\"{sizes}\" \
         width=\"1600\" height=\"1200\" decoding=\"async\" alt=\"Sea &quot;view&quot;\" title=\"t\" /></picture>"
    );
    assert!(html.contains(&expected), "{html}\n{expected}");
    // The second image is lazy, and a set smaller than the ladder has one width.
    assert!(
        html.contains("srcset=\"/assets/b-0123456789abcdef/300x500.png 300w\" sizes=\"(max-width: 42rem) calc(100vw - 2.5rem), 39.5rem\" width=\"300\" height=\"500\" loading=\"lazy\""),
        "{html}"
    );
}

#[test]
fn scrolling_blocks_take_focus_and_checkboxes_have_names() {
    let html = render("```\nx\n```\n\n| a |\n|---|\n| 1 |\n\n- [x] done\n- [ ] todo\n").html;
    assert!(html.contains("<pre tabindex=\"0\""), "{html}");
    assert!(html.contains("<table tabindex=\"0\">"), "{html}");
    assert!(
        html.contains("checked=\"\" disabled=\"\" aria-label=\"Done\">"),
        "{html}"
    );
    assert!(
        html.contains("disabled=\"\" aria-label=\"Not done\">"),
        "{html}"
    );
}

#[test]
fn a_dropped_link_is_no_link() {
    let html = render("[click](javascript:alert(1)) and [t](javascript:x \"title\")\n").html;
    assert!(!html.contains("href"), "{html}");
    assert!(html.contains("<a>click</a>"), "{html}");
    assert!(html.contains("<a title=\"title\">t</a>"), "{html}");
}

#[test]
fn listed_raw_html_renders_and_the_rest_shows_as_text() {
    let src = "<figure><img src=\"/assets/d.png\" width=\"600\" onerror=\"x()\" style=\"border:0\">\
               <figcaption>A <a href=\"javascript:alert(1)\">diagram</a></figcaption></figure>\n\n\
               E = mc<sup>2</sup>, H<sub>2</sub>O, line<br>break, <b>bold</b> <span>s</span>.\n\n\
               <details open><summary>More</summary>\n\nHidden *text*.\n\n</details>\n\n\
               <video controls autoplay src=\"/assets/v.mp4\" poster=\"/assets/p.jpg\"></video>\n\n\
               <iframe src=\"https://evil.example\"></iframe>\n\n\
               <a href=\"https://example.com/\" target=\"_blank\" onclick=\"x()\">out</a> <!-- a note -->\n";
    let html = render(src).html;
    for kept in [
        "<figure><img src=\"/assets/d.png\" decoding=\"async\" width=\"600\">",
        "<figcaption>A <a>diagram</a></figcaption></figure>",
        "mc<sup>2</sup>, H<sub>2</sub>O, line<br>break",
        "&lt;b&gt;bold&lt;/b&gt; &lt;span&gt;s&lt;/span&gt;",
        "<details open=\"\"><summary>More</summary>",
        "<em>text</em>",
        "<video controls=\"\" src=\"/assets/v.mp4\" poster=\"/assets/p.jpg\"></video>",
        "&lt;iframe src=\"https://evil.example\"&gt;&lt;/iframe&gt;",
        "<a href=\"https://example.com/\">out</a>",
    ] {
        assert!(html.contains(kept), "{kept} missing: {html}");
    }
    for gone in [
        "onerror",
        "style=",
        "javascript:",
        "autoplay",
        "onclick",
        "target=",
        "a note",
        "<iframe",
        "<b>",
    ] {
        assert!(!html.contains(gone), "{gone} leaked: {html}");
    }
}

#[test]
fn cleaning_raw_html_keeps_everything_markdown_makes() {
    // The showcase without its raw HTML, alone and with one listed element: the
    // sanitizer must keep every element and attribute comrak and this renderer write.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../content/markdown-showcase.md"
    ))
    .unwrap();
    let body = doc.splitn(3, "---\n").nth(2).unwrap();
    let raw = body.find("## Raw HTML").unwrap()..body.find("## Images").unwrap();
    let body = format!("{}{}", &body[..raw.start], &body[raw.end..]);
    assert!(!body.contains("<sup>") && !body.contains("<script>"));
    let plain = render(&body).html;
    let with = render(&format!("{body}\nA<br>B\n")).html;
    // html5ever writes the same markup in its own spelling.
    let same_spelling = |h: &str| {
        h.replace(" />", ">")
            .replace("=\"\"", "")
            .replace("&quot;", "\"")
    };
    assert_eq!(
        same_spelling(&with).replace("<p>A<br>B</p>\n", ""),
        same_spelling(&plain)
    );
    assert!(plain.contains("class=\"hl-") && plain.contains("task-list-item-checkbox"));
}

#[test]
fn raw_images_sized_by_the_author_are_not_sized_twice() {
    let html = render("<img src=\"/assets/d-0123456789abcdef-640x480.png\" width=\"320\">\n").html;
    assert_eq!(html.matches("width=").count(), 1, "{html}");
    let html = render("<img src=\"/assets/d-0123456789abcdef-640x480.png\" alt=\"d\">\n").html;
    assert!(html.contains("width=\"640\" height=\"480\""), "{html}");
}
