//! A TLS front for the benchmark: terminates TLS as an AWS endpoint does and passes
//! the bytes on to a plain-HTTP emulator, so a function's first request pays the
//! handshake it pays on AWS. The certificate chain is the benchmark's own (a root, an
//! intermediate and a leaf for 127.0.0.1, RSA 2,048 like Amazon's; `scripts/bench.sh`
//! makes them with openssl).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

/// The proxy; it stops with the process.
pub struct TlsProxy {
    addr: SocketAddr,
    handshakes: Arc<Mutex<Vec<Duration>>>,
}

impl TlsProxy {
    /// Listens on a free loopback port, forwarding to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, chain_pem: &Path, key_pem: &Path) -> Self {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(chain_pem)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(key_pem).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handshakes: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let timed = handshakes.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                let timed = timed.clone();
                tokio::spawn(async move {
                    // Without it, Nagle's algorithm meets delayed ACKs and every
                    // request waits 40 ms for the last TLS record.
                    let _ = socket.set_nodelay(true);
                    // From the accepted connection to the client's Finished: the
                    // client's part of the handshake (its key share, the chain's
                    // verification) at the client's CPU share; loopback adds ~0.
                    let accepted = Instant::now();
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    timed.lock().unwrap().push(accepted.elapsed());
                    let Ok(mut plain) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Self { addr, handshakes }
    }

    /// The handshakes completed since the last call, in order.
    pub fn take_handshakes(&self) -> Vec<Duration> {
        std::mem::take(&mut *self.handshakes.lock().unwrap())
    }

    /// The endpoint to give the SDK (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }
}
