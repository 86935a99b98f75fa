//! What the commands that work through many items (import, export, the import of
//! an export) share: their progress bar, their tallies and their failure list.

use std::collections::BTreeMap;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over `len` items, with the current one named beside it.
pub fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// `3 created, 1 unchanged`, or `none`.
pub fn tally(counts: &BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lists every failure with its reason and fails the command, or does nothing.
pub fn report(failures: &[(String, String)], what: &str) -> anyhow::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    println!("{} failed:", failures.len());
    for (item, why) in failures {
        println!("  {item}: {why}");
    }
    bail!("{} {what}", failures.len())
}
