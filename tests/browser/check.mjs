// The readers' view in real browsers: every page type, phone and desktop, light and
// dark, in headless Chromium. Lighthouse must score 100 in all four categories, axe
// must find no violation, and a page may log nothing to the console, break no CSP
// rule and request nothing beyond its origin. Also saves each page's HTML for the
// Nu checker and the README's screenshots.
//
// Usage: node check.mjs SITE_URL OUT_DIR SCREENSHOT_DIR
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const [site, outDir, shotDir] = process.argv.slice(2);
const origin = new URL(site).origin;
const chromium = process.env.CHROME_PATH || '/usr/bin/chromium';
fs.mkdirSync(path.join(outDir, 'html'), { recursive: true });
fs.mkdirSync(shotDir, { recursive: true });

const failures = [];
const fail = (what) => { failures.push(what); console.error(`FAIL ${what}`); };

async function text(url) {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, body: await res.text() };
}

// Page types, with the URL of each found the way a reader finds it.
const home = await text(`${site}/`);
const older = home.body.match(/<a href="([^"]+)" rel="next">/);
if (!older) throw new Error('the home page has no "Older" link: serve with fewer posts per page');
const tags = await text(`${site}/tags/`);
const tag = tags.body.match(/<li><a href="(\/tags\/[^"]+\/)">/);
if (!tag) throw new Error('the tag index lists no tag');
const pages = [
  ['home', '/'],
  ['older', older[1].replaceAll('&amp;', '&')],
  ['post', '/posts/how-this-blog-works/'],
  ['showcase', '/posts/markdown-showcase/'],
  ['photos', '/posts/photos-from-a-walk/'],
  ['tags', '/tags/'],
  ['tag', tag[1]],
  ['archive', '/archive/'],
  ['subscribe', '/subscribe/'],
  ['404', '/posts/no-such-post/'],
];

// Lighthouse does not score a page answered 404: it scores the 404 page's content
// served with 200 by this loopback proxy. Its one skipped audit is `is-crawlable`:
// the page's noindex is intended (an error page must stay out of search indexes
// even if some proxy turns its status into 200).
const proxy = http.createServer((req, res) => {
  const upstream = http.request(`${site}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
    res.writeHead(up.statusCode === 404 ? 200 : up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
  req.pipe(upstream);
});
await new Promise((ok) => proxy.listen(0, '127.0.0.1', ok));
const proxied = `http://127.0.0.1:${proxy.address().port}`;

for (const [name, url] of pages) {
  const { status, body } = await text(`${site}${url}`);
  if (status !== (name === '404' ? 404 : 200)) fail(`${name} ${url}: status ${status}`);
  fs.writeFileSync(path.join(outDir, 'html', `${name}.html`), body);
}

const forms = {
  mobile: { viewport: { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true }, config: undefined },
  desktop: { viewport: { width: 1280, height: 800, deviceScaleFactor: 1 }, config: desktopConfig },
};
const categories = ['performance', 'accessibility', 'best-practices', 'seo'];
// Lighthouse 12's image findings: oversized, old-format, unsized, unoptimised,
// offscreen-but-eager images, a lazy largest paint, and images without a size ratio.
const imageAudits = ['uses-responsive-images', 'modern-image-formats', 'unsized-images', 'uses-optimized-images',
  'offscreen-images', 'lcp-lazy-loaded', 'image-aspect-ratio', 'image-size-responsive', 'prioritize-lcp-image'];
// Lighthouse 12's newer insight over the same findings, where the config runs it.
const imageInsights = ['image-delivery-insight'];
const scores = {};
const shots = { home: '/', post: '/posts/how-this-blog-works/', archive: '/archive/' };

for (const scheme of ['light', 'dark']) {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...(scheme === 'dark' ? ['--force-dark-mode'] : [])],
  });
  try {
    for (const [form, { viewport, config }] of Object.entries(forms)) {
      for (const [name, url] of pages) {
        const key = `${form}-${scheme}`;
        // axe, console, CSP and requests, on the page as the reader gets it.
        const page = await browser.newPage();
        await page.setViewport(viewport);
        const messages = [];
        const offsite = [];
        const pageUrl = `${site}${url}`;
        page.on('console', (m) => {
          // Chromium reports a document answered 404 as a console error: on the 404
          // page that one message is the status the check asks for, not a fault.
          const own = name === '404' && m.location()?.url === pageUrl && m.text().includes('status of 404');
          if (!own) messages.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => messages.push(`error: ${e.message}`));
        page.on('request', (r) => {
          const u = r.url();
          if (!u.startsWith('data:') && new URL(u).origin !== origin) offsite.push(u);
        });
        await page.evaluateOnNewDocument(() => {
          window.__csp = [];
          document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
        });
        await page.goto(`${site}${url}`, { waitUntil: 'networkidle0' });
        const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
        if (dark !== (scheme === 'dark')) fail(`${name} ${key}: the browser is not in ${scheme} mode`);
        await page.evaluate(axeSource);
        const axe = await page.evaluate(async () => {
          const r = await window.axe.run(document, { resultTypes: ['violations'] });
          return r.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.help}; ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        });
        const csp = await page.evaluate(() => window.__csp);
        for (const v of axe) fail(`${name} ${key}: axe ${v}`);
        for (const m of messages) fail(`${name} ${key}: console ${m}`);
        for (const c of csp) fail(`${name} ${key}: CSP violation ${c}`);
        for (const u of offsite) fail(`${name} ${key}: request beyond the origin ${u}`);
        for (const [shot, shotUrl] of Object.entries(shots)) {
          if (shotUrl === url) {
            const file = path.join(shotDir, `${shot}-${form === 'mobile' ? 'phone' : 'desktop'}-${scheme}.png`);
            await page.screenshot({ path: file });
          }
        }
        await page.close();

        // Lighthouse, in a fresh tab of the same browser. Its scores vary from run to
        // run on a busy machine; its variability guide advises the median of five runs.
        // A first run of 100 everywhere stands; otherwise four more are made and each
        // category's median counts.
        const target = name === '404' ? `${proxied}${url}` : `${site}${url}`;
        const flags = { output: 'json', logLevel: 'error', ...(name === '404' ? { skipAudits: ['is-crawlable'] } : {}) };
        const runs = [];
        const score = (r) => categories.map((c) => Math.round((r.categories[c]?.score ?? 0) * 100));
        while (runs.length < 5) {
          const lhPage = await browser.newPage();
          const result = await lighthouse(target, flags, config, lhPage);
          await lhPage.close().catch(() => {});
          runs.push(result.lhr);
          if (result.lhr.runtimeError) fail(`${name} ${key}: Lighthouse ${result.lhr.runtimeError.code} ${result.lhr.runtimeError.message}`);
          if (runs.length === 1 && score(result.lhr).every((v) => v === 100)) break;
        }
        // Images: no finding in any run, weighted or not (README "Images").
        for (const r of runs) {
          for (const id of imageAudits) {
            const a = r.audits[id];
            if (!a) fail(`${name} ${key}: Lighthouse has no audit ${id}`);
            else if (a.score !== null && a.score < 1) fail(`${name} ${key}: Lighthouse ${id}: ${a.displayValue ?? a.title}`);
          }
          for (const id of imageInsights) {
            const a = r.audits[id];
            if (a && a.score !== null && a.score < 1) fail(`${name} ${key}: Lighthouse ${id}: ${a.displayValue ?? a.title}`);
          }
        }
        const median = categories.map((_, i) => runs.map((r) => score(r)[i]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]);
        if (runs.length > 1) console.log(`${name} ${key}: ${runs.length} Lighthouse runs: ${runs.map((r) => score(r).join('/')).join(', ')}; median ${median.join('/')}`);
        const row = (scores[name] ??= {});
        row[key] = median;
        categories.forEach((c, i) => {
          if (row[key][i] !== 100) {
            const lost = runs.flatMap((r) => Object.values(r.audits)
              .filter((a) => a.score !== null && a.score < 1 && (r.categories[c].auditRefs.find((ref) => ref.id === a.id)?.weight ?? 0) > 0)
              .map((a) => `${a.id} ${a.displayValue ?? ''}`.trim()));
            fail(`${name} ${key}: Lighthouse ${c} ${row[key][i]} (${lost.join('; ')})`);
          }
        });
        console.log(`${name.padEnd(9)} ${key.padEnd(13)} ${row[key].join('/')} axe ${axe.length} console ${messages.length}`);
      }
    }
  } finally {
    await browser.close();
  }
}
proxy.close();

// The table of pages × scores (performance/accessibility/best practices/SEO).
const keys = ['mobile-light', 'mobile-dark', 'desktop-light', 'desktop-dark'];
const table = [`| page | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---').join('|')}|`];
for (const [name] of pages) table.push(`| ${name} | ${keys.map((k) => scores[name]?.[k]?.join('/') ?? '–').join(' | ')} |`);
fs.writeFileSync(path.join(outDir, 'scores.md'), `${table.join('\n')}\n`);
console.log(`\nLighthouse (performance/accessibility/best practices/SEO):\n${table.join('\n')}`);
if (failures.length) {
  console.error(`\n${failures.length} failure(s)`);
  process.exit(1);
}
