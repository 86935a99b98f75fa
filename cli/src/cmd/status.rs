//! `blog status`: the site's invalidation queue (`GET /api/invalidations`).

use anyhow::bail;

use super::api::{Api, Body};
use crate::cli::StatusArgs;

/// Prints what is queued, held and recently sent.
pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.remote)?;
    let reply = api.call("GET", "/api/invalidations", Body::None, None)?;
    if reply.status != 200 {
        bail!("{}", reply.message());
    }
    let b = &reply.body;
    let pending = b["pending"].as_array().cloned().unwrap_or_default();
    if pending.is_empty() {
        println!("nothing queued: every change has reached the CDN");
    } else {
        println!("{} write(s) queued:", pending.len());
        for q in &pending {
            println!(
                "  {} {}",
                q["queued_at"].as_str().unwrap_or("?"),
                joined(&q["paths"])
            );
        }
        println!("  next batch: {}", joined(&b["next_batch"]));
    }
    if b["held"].as_bool() == Some(true) {
        println!(
            "held until {} (a bulk run; it goes out when the run ends)",
            b["held_until"].as_str().unwrap_or("?")
        );
    }
    for s in b["sent"].as_array().into_iter().flatten() {
        println!(
            "sent {} {}: {} path(s) for {} write(s) ({} attempt(s))",
            s["sent_at"].as_str().unwrap_or("?"),
            s["id"].as_str().unwrap_or("?"),
            s["paths"].as_array().map_or(0, Vec::len),
            s["entries"],
            s["attempts"]
        );
    }
    Ok(())
}

/// A JSON list of paths on one line.
fn joined(paths: &serde_json::Value) -> String {
    paths
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}
