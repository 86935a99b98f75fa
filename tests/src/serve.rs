//! A running `blog serve` for tests: started on a free port, its URL read from its
//! first line, its log kept in a file, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A `blog serve` process.
pub struct BlogServe {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Everything it wrote to stderr (its log).
    pub log: PathBuf,
    _log_file: tempfile::NamedTempFile,
    /// Kept open: a server must never see its stdout closed under it.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for BlogServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BlogServe {
    /// Starts `blog` (the binary at `bin`) with `serve --port 0` and `args`, with only
    /// `env` in its environment.
    pub fn start(bin: &Path, args: &[&str], env: &[(String, String)]) -> Self {
        let log_file = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0", "--config", "/nonexistent/blog.toml"])
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file.reopen().unwrap()))
            .spawn()
            .expect("start blog serve");
        // The URL is on the "Serving ..." line, after any seeding output.
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let base = loop {
            let mut line = String::new();
            let n = stdout.read_line(&mut line).unwrap();
            if let Some(url) = line
                .split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
            {
                break url.trim_end_matches('/').to_owned();
            }
            seen.push_str(&line);
            if n == 0 {
                let log = std::fs::read_to_string(log_file.path()).unwrap_or_default();
                panic!("blog serve printed no URL: {seen:?}; log: {log}");
            }
        };
        Self {
            child,
            base,
            log: log_file.path().to_owned(),
            _log_file: log_file,
            _stdout: stdout,
        }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
