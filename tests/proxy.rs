//! A small TCP proxy that breaks connections on demand: the network a shop really has.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Pass everything through.
    None = 0,
    /// Close the connection at once with a reset.
    Reset = 1,
    /// Forward the request, then cut the response after a few bytes.
    Truncate = 2,
    /// Hold the request for two seconds before forwarding it.
    Delay = 3,
    /// Accept and never answer.
    Blackhole = 4,
}

pub struct Proxy {
    pub addr: SocketAddr,
    fault: Arc<AtomicU8>,
    /// Open client connections: a new fault closes them, so pooled keep-alive
    /// connections cannot slip past it.
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(AtomicU8::new(Fault::None as u8));
        let shared = fault.clone();
        let open = Arc::new(Mutex::new(Vec::new()));
        let tracked = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if let Ok(clone) = client.try_clone() {
                    tracked.lock().unwrap().push(clone);
                }
                let fault = shared.load(Ordering::SeqCst);
                std::thread::spawn(move || handle(client, upstream, fault));
            }
        });
        Proxy { addr, fault, open }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
        for conn in self.open.lock().unwrap().drain(..) {
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

fn handle(client: TcpStream, upstream: SocketAddr, fault: u8) {
    match fault {
        1 => {
            // Closing with unread request bytes makes the kernel answer with a reset.
            let mut client = client;
            let mut first = [0_u8; 8];
            let _ = client.read(&mut first);
            drop(client);
        }
        4 => {
            // Read whatever comes, answer nothing, until the client gives up.
            let mut sink = [0_u8; 4096];
            let mut client = client;
            while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
        }
        _ => {
            if fault == 3 {
                std::thread::sleep(Duration::from_secs(2));
            }
            let Ok(server) = TcpStream::connect(upstream) else {
                return;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let up = std::thread::spawn(move || pipe(c2, s2, None));
            let limit = (fault == 2).then_some(40);
            pipe(server, client, limit);
            let _ = up.join();
        }
    }
}
