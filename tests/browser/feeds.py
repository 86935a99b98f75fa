"""Feeds and sitemap as their readers see them: every feed parses without error and
every URL in it is absolute; the sitemap validates against the Sitemap 0.9 schema.

Usage: python feeds.py SITE_URL
"""
import html.parser
import pathlib
import sys
import urllib.parse
import urllib.request

import feedparser
from lxml import etree

site = sys.argv[1].rstrip("/")
failures = []


def get(path):
    with urllib.request.urlopen(site + path, timeout=10) as res:
        return res.read()


class Urls(html.parser.HTMLParser):
    """Every href and src in an entry's HTML."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("href", "src") and v is not None]


tag_feeds = []
for path in ["/feed.xml", "/rss.xml"]:
    feed = feedparser.parse(get(path))
    if feed.bozo:
        failures.append(f"{path}: does not parse: {feed.bozo_exception}")
    if not feed.entries:
        failures.append(f"{path}: no entries")
    for entry in feed.entries:
        if not entry.link.startswith(("http://", "https://")):
            failures.append(f"{path}: entry link {entry.link} is not absolute")
        bodies = [c.value for c in entry.get("content", [])] + [entry.get("summary", "")]
        for body in bodies:
            parser = Urls()
            parser.feed(body)
            for url in parser.urls:
                if not url.startswith(("http://", "https://", "mailto:")):
                    failures.append(f"{path}: {entry.title}: relative URL {url!r}")
        tag_feeds += [t.term for t in entry.get("tags", [])]
    print(f"{path}: {feed.version}, {len(feed.entries)} entries")

for term in sorted(set(tag_feeds))[:3]:
    path = "/tags/" + urllib.parse.quote(term) + "/feed.xml"
    feed = feedparser.parse(get(path))
    if feed.bozo or not feed.entries:
        failures.append(f"{path}: does not parse or is empty: {feed.get('bozo_exception')}")
    print(f"{path}: {feed.version}, {len(feed.entries)} entries")

schema = etree.XMLSchema(etree.parse(str(pathlib.Path(__file__).with_name("sitemap.xsd"))))
sitemap = etree.fromstring(get("/sitemap.xml"))
if not schema.validate(sitemap):
    failures += [f"/sitemap.xml: {e.line}: {e.message}" for e in schema.error_log]
locs = sitemap.findall("{http://www.sitemaps.org/schemas/sitemap/0.9}url")
print(f"/sitemap.xml: valid Sitemap 0.9, {len(locs)} URLs")

for f in failures:
    print(f"FAIL {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
