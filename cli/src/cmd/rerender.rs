//! `blog rerender`: which renderer made the stored posts (`GET /api/rerender`),
//! then, unless `--check`, a run that re-renders those an older one made
//! (`POST /api/rerender`, repeated while the API answers 202: each request has a
//! time budget).

use anyhow::bail;

use super::api::{Api, Body};
use crate::cli::RerenderArgs;

/// Requests one run may make before giving up: each re-renders for up to 20 s.
const MAX_ROUNDS: usize = 100;

/// Shows the versions, then re-renders.
pub fn run(args: RerenderArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.remote)?;
    let reply = api.call("GET", "/api/rerender", Body::None, None)?;
    if reply.status != 200 {
        bail!("{}", reply.message());
    }
    let b = &reply.body;
    let build = &b["build"];
    println!(
        "the site's code renders with renderer {}, pages {}",
        text(&build["renderer"]),
        text(&build["pages"])
    );
    match b["site"].as_object() {
        Some(site) => println!(
            "the site was last brought to renderer {}, pages {}",
            text(&site["renderer"]),
            text(&site["pages"])
        ),
        None => println!("the site has recorded no versions yet (no deploy has run)"),
    }
    if let Some(job) = b["job"].as_object() {
        println!(
            "a run is under way: {} post(s) left at {}",
            job["left"],
            text(&job["at"])
        );
    }
    let stale: Vec<&str> = b["stale"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .collect();
    if stale.is_empty() {
        println!("every post carries the current renderer's HTML");
    } else {
        println!(
            "{} post(s) carry an older renderer's HTML: {}",
            stale.len(),
            stale.join(" ")
        );
    }
    if args.check || stale.is_empty() {
        return Ok(());
    }
    let (mut rerendered, mut raced) = (0, 0);
    for _ in 0..MAX_ROUNDS {
        let reply = api.call("POST", "/api/rerender", Body::None, None)?;
        if !matches!(reply.status, 200 | 202) {
            bail!("{}", reply.message());
        }
        let p = &reply.body;
        rerendered += p["rerendered"].as_array().map_or(0, Vec::len);
        raced += p["raced"].as_array().map_or(0, Vec::len);
        for failed in p["failed"].as_array().into_iter().flatten() {
            eprintln!(
                "warning: {} kept its old HTML: {}",
                text(&failed[0]),
                text(&failed[1])
            );
        }
        if reply.status == 200 {
            println!(
                "re-rendered {rerendered} post(s){}; their pages are queued for the CDN (blog status shows them)",
                if raced > 0 {
                    format!(" ({raced} changed by a publish meanwhile, which carries the new HTML)")
                } else {
                    String::new()
                }
            );
            return Ok(());
        }
        println!("re-rendered {rerendered} so far, {} left", p["left"]);
    }
    bail!("the re-render did not finish after {MAX_ROUNDS} requests; run blog rerender again")
}

fn text(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or("?")
}
