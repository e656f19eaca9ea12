//! A small TCP proxy that breaks connections on demand: the network a shop really has,
//! for the fault tests and `vitrine bench chaos`. The hub behind it may move (a restart
//! on another port): [`Proxy::set_upstream`].

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Pass everything through.
    None = 0,
    /// Close the connection as soon as the request starts.
    Reset = 1,
    /// Forward the request, then cut the response after a few bytes.
    Truncate = 2,
    /// Hold the request (two seconds unless [`Proxy::set_delay`] says) before forwarding it.
    Delay = 3,
    /// Accept and never answer.
    Blackhole = 4,
}

pub struct Proxy {
    pub addr: SocketAddr,
    fault: Arc<AtomicU8>,
    upstream: Arc<Mutex<SocketAddr>>,
    delay_ms: Arc<AtomicU64>,
    /// Open client connections: a new fault closes them, so pooled keep-alive
    /// connections cannot slip past it.
    open: Arc<Mutex<Vec<TcpStream>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Proxy {
    /// A proxy on `127.0.0.1:0` in front of `upstream`.
    pub fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let fault = Arc::new(AtomicU8::new(Fault::None as u8));
        let upstream = Arc::new(Mutex::new(upstream));
        let delay_ms = Arc::new(AtomicU64::new(2_000));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (shared, target, delay, tracked) = (fault.clone(), upstream.clone(), delay_ms.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if let Ok(clone) = client.try_clone() {
                    lock(&tracked).push(clone);
                }
                let fault = shared.load(Ordering::SeqCst);
                let upstream = *lock(&target);
                let delay = Duration::from_millis(delay.load(Ordering::SeqCst));
                std::thread::spawn(move || handle(client, upstream, fault, delay));
            }
        });
        Ok(Proxy {
            addr,
            fault,
            upstream,
            delay_ms,
            open,
        })
    }

    /// Where new connections go from now on.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.upstream) = upstream;
    }

    /// How long [`Fault::Delay`] holds a request.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
        for conn in lock(&self.open).drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, limit: Option<usize>) {
    let mut buf = [0_u8; 16 * 1024];
    let mut sent = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let n = limit.map_or(n, |l| n.min(l - sent));
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n;
        if limit.is_some_and(|l| sent >= l) {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn handle(client: TcpStream, upstream: SocketAddr, fault: u8, delay: Duration) {
    match fault {
        1 => {
            // Cut the connection as soon as the request starts. (Shut down, not just
            // dropped: the proxy keeps a handle of every connection to cut on a change
            // of fault, so a drop alone would leave it open and silent.)
            let mut client = client;
            let mut first = [0_u8; 8];
            let _ = client.read(&mut first);
            let _ = client.shutdown(Shutdown::Both);
        }
        4 => {
            // Read whatever comes, answer nothing, until the client gives up.
            let mut sink = [0_u8; 4096];
            let mut client = client;
            while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
        }
        _ => {
            if fault == 3 {
                std::thread::sleep(delay);
            }
            let Ok(server) = TcpStream::connect(upstream) else {
                return;
            };
            let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                return;
            };
            let up = std::thread::spawn(move || pipe(c2, s2, None));
            let limit = (fault == 2).then_some(40);
            pipe(server, client, limit);
            let _ = up.join();
        }
    }
}
