//! The template tags engines let posts use, which Markdown would show as text:
//! Jekyll's `{% highlight %}`, `{% raw %}`, `{% post_url %}` and `{{ site.baseurl }}`,
//! Hugo's `{{< highlight >}}` and `{{< figure >}}`. Each becomes what this blog
//! renders (a fenced block, a link, a `<figure>` from the raw HTML list); any other
//! tag is left as written and named in a warning. Lines keep their numbers.

use blog_core::markdown::fences::Fences;

/// The body with known tags translated, and `(line, message)` for tags left.
pub fn translate(body: &str) -> (String, Vec<(usize, String)>) {
    let mut out = String::with_capacity(body.len());
    let mut warnings = Vec::new();
    let mut fences = Fences::default();
    let mut highlight = false;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        let (text, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        let t = text.trim();
        if highlight {
            if is_tag(t, "{%", "%}", "endhighlight") || is_tag(t, "{{<", ">}}", "/highlight") {
                highlight = false;
                out.push_str("```");
                out.push_str(end);
            } else {
                out.push_str(line);
            }
            continue;
        }
        if fences.is_code(t) {
            out.push_str(line);
            continue;
        }
        if let Some(lang) = highlight_open(t) {
            highlight = true;
            out.push_str("```");
            out.push_str(&lang);
            out.push_str(end);
            continue;
        }
        let translated = inline(text);
        for tag in leftover_tags(&translated) {
            warnings.push((
                i + 1,
                format!("{tag} is the old engine's template syntax; it shows as text here"),
            ));
        }
        out.push_str(&translated);
        out.push_str(end);
    }
    (out, warnings)
}

/// Whether `t` is exactly the tag `open word … close`.
fn is_tag(t: &str, open: &str, close: &str, word: &str) -> bool {
    t.strip_prefix(open)
        .and_then(|r| r.strip_suffix(close))
        .is_some_and(|inner| inner.trim().trim_matches('-').trim() == word)
}

/// `{% highlight ruby linenos %}` or `{{< highlight go "linenos=table" >}}`: the language.
fn highlight_open(t: &str) -> Option<String> {
    let inner = t
        .strip_prefix("{%")
        .and_then(|r| r.strip_suffix("%}"))
        .or_else(|| t.strip_prefix("{{<").and_then(|r| r.strip_suffix(">}}")))?;
    let mut words = inner.trim().trim_matches('-').split_whitespace();
    (words.next()? == "highlight").then(|| words.next().unwrap_or("").trim_matches('"').to_owned())
}

/// One line's inline tags.
fn inline(text: &str) -> String {
    let mut s = text.to_owned();
    for base in [
        "{{ site.url }}{{ site.baseurl }}",
        "{{ site.baseurl }}",
        "{{site.baseurl}}",
        "{{ site.url }}",
        "{{site.url}}",
        "{% raw %}",
        "{% endraw %}",
    ] {
        s = s.replace(base, "");
    }
    let s = replace_tags(&s, "{%", "%}", |inner| {
        let mut words = inner.split_whitespace();
        (words.next()? == "post_url").then(|| {
            let name = words.next().unwrap_or("");
            let name = name.rsplit('/').next().unwrap_or(name);
            let slug = match name.get(..11) {
                Some(date)
                    if date.ends_with('-')
                        && date[..10].bytes().all(|b| b.is_ascii_digit() || b == b'-') =>
                {
                    &name[11..]
                }
                _ => name,
            };
            format!("/posts/{slug}/")
        })
    });
    replace_tags(&s, "{{<", ">}}", |inner| {
        let inner = inner.trim();
        let rest = inner.strip_prefix("figure")?;
        let attrs = attributes(rest);
        let get = |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        let src = get("src")?;
        let alt = get("alt").or(get("title")).or(get("caption")).unwrap_or("");
        let mut html = format!("<figure><img src=\"{}\" alt=\"{}\">", attr(src), attr(alt));
        if let Some(caption) = get("caption").or(get("title")) {
            html.push_str(&format!("<figcaption>{}</figcaption>", text_html(caption)));
        }
        html.push_str("</figure>");
        Some(html)
    })
}

/// Replaces each `open … close` whose inside `f` translates; others stay.
fn replace_tags(s: &str, open: &str, close: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else { break };
        out.push_str(&rest[..start]);
        match f(after[..end].trim().trim_matches('-').trim()) {
            Some(done) => out.push_str(&done),
            None => out.push_str(&rest[start..start + open.len() + end + close.len()]),
        }
        rest = &after[end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// `key="value"` pairs (quotes optional).
fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().to_owned();
        let value_part = rest[eq + 1..].trim_start();
        let (value, after) = match value_part.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &value_part[1..];
                let end = body.find(q).unwrap_or(body.len());
                (&body[..end], body.get(end + 1..).unwrap_or(""))
            }
            _ => {
                let end = value_part
                    .find(char::is_whitespace)
                    .unwrap_or(value_part.len());
                (&value_part[..end], &value_part[end..])
            }
        };
        out.push((key, value.to_owned()));
        rest = after.trim_start();
    }
    out
}

fn attr(s: &str) -> String {
    text_html(s).replace('"', "&quot;")
}

fn text_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Template tags still in a line: `{% … %}`, `{{< … >}}`, `{{% … %}}`.
fn leftover_tags(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [("{%", "%}"), ("{{<", ">}}"), ("{{%", "%}}")] {
        let mut rest = s;
        while let Some(start) = rest.find(open) {
            let Some(end) = rest[start..].find(close) else {
                break;
            };
            out.push(rest[start..start + end + close.len()].to_owned());
            rest = &rest[start + end + close.len()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_tags_become_what_this_blog_renders() {
        let body = "See [the last one]({% post_url 2018-05-19-welcome-to-jekyll %}).\n\
                    ![Logo]({{ site.baseurl }}/assets/logo.png)\n\
                    {% highlight ruby linenos %}\n\
                    puts \"{% not a tag here %}\"\n\
                    {% endhighlight %}\n\
                    {{< figure src=\"fjord.jpg\" caption=\"A fjord & a boat\" >}}\n\
                    {{< highlight go >}}\n\
                    fmt.Println()\n\
                    {{< /highlight >}}\n\
                    {% include signup.html %} and {{< youtube abc >}}\n\
                    ```\n{% kept in code %}\n```\n";
        let (out, warnings) = translate(body);
        assert_eq!(
            out,
            "See [the last one](/posts/welcome-to-jekyll/).\n\
             ![Logo](/assets/logo.png)\n\
             ```ruby\n\
             puts \"{% not a tag here %}\"\n\
             ```\n\
             <figure><img src=\"fjord.jpg\" alt=\"A fjord &amp; a boat\"><figcaption>A fjord &amp; a boat</figcaption></figure>\n\
             ```go\n\
             fmt.Println()\n\
             ```\n\
             {% include signup.html %} and {{< youtube abc >}}\n\
             ```\n{% kept in code %}\n```\n"
        );
        assert_eq!(
            out.lines().count(),
            body.lines().count(),
            "lines keep their numbers"
        );
        assert_eq!(
            warnings,
            vec![
                (10, "{% include signup.html %} is the old engine's template syntax; it shows as text here".to_owned()),
                (10, "{{< youtube abc >}} is the old engine's template syntax; it shows as text here".to_owned()),
            ]
        );
    }
}
