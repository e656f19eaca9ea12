//! A throwaway PostgreSQL cluster from the machine's own packages: `initdb` and the
//! server in a temporary directory, run as a user that is not root, on a free port of
//! 127.0.0.1. The tests start one (and a second, when they need to stop the server under
//! a running hub); `vitrine bench sync --database local` measures on one.
//!
//! The server is a child of this process, set to get SIGTERM if the thread that started
//! it ends, so a test run that is killed leaves no server behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The role the tests and benches connect as (trust authentication, local only).
pub const USER: &str = "vitrine";

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Who runs the server when this process is root (`initdb` refuses root).
    run_as: Option<String>,
    port: u16,
    durable: bool,
    server: Option<Child>,
    /// The migrated database new ones are copied from, made on first use.
    template: std::sync::OnceLock<Result<(), String>>,
}

/// The newest PostgreSQL's programs: `VITRINE_PG_BIN`, else Debian's
/// `/usr/lib/postgresql/<version>/bin`, else whatever `pg_config --bindir` says.
fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("VITRINE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output();
    match out {
        Ok(out) if out.status.success() => Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())),
        _ => Err("PostgreSQL's server programs are not installed (initdb, postgres): \
                  install the postgresql package (.ci/setup does) or set VITRINE_PG_BIN"
            .to_owned()),
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

impl Cluster {
    /// Creates and starts a cluster. `durable`: flush commits to disk as a production
    /// server does (for benchmarks); tests run without.
    pub fn start(durable: bool) -> Result<Cluster, String> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("vitrine-pg-")
            .tempdir()
            .map_err(|e| format!("cannot make a directory for PostgreSQL: {e}"))?;
        let run_as = is_root().then(|| "postgres".to_owned());
        if let Some(user) = &run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .map_err(|e| format!("cannot run chown: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "cannot give {} to the {user} user (is the postgresql package installed?)",
                    dir.path().display()
                ));
            }
        }
        let mut cluster = Cluster {
            dir,
            bin,
            run_as,
            port: free_port()?,
            durable,
            server: None,
            template: std::sync::OnceLock::new(),
        };
        let data = cluster.data();
        let mut initdb = cluster.command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
        let out = initdb.output().map_err(|e| format!("cannot run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        cluster.run()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    /// Starts the server on the cluster's port and waits until it takes connections.
    fn run(&mut self) -> Result<(), String> {
        let flush = if self.durable { "on" } else { "off" };
        let mut server = self.command("postgres");
        server
            .arg("-D")
            .arg(self.data())
            .arg("-k")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .args([
                "-c",
                &format!("fsync={flush}"),
                "-c",
                &format!("full_page_writes={flush}"),
            ])
            .args(["-c", "max_connections=400", "-c", "shared_buffers=128MB"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("server.log")).map_err(|e| e.to_string())?);
        // SAFETY: only the async-signal-safe prctl between fork and exec.
        unsafe {
            server.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
                    .map_err(std::io::Error::from)
            });
        }
        self.server = Some(server.spawn().map_err(|e| format!("cannot start postgres: {e}"))?);
        let deadline = Instant::now() + Duration::from_secs(60);
        let config = super::pg::config(&self.url("postgres")).map_err(|e| e.to_string())?;
        loop {
            match config.connect_raw() {
                // Ours, not another server that took the port between the check and the start.
                Ok(_) if self.running() => return Ok(()),
                Ok(_) => return Err(format!("port {} was taken by another server", self.port)),
                Err(_) if Instant::now() < deadline && self.running() => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => {
                    let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
                    return Err(format!("PostgreSQL did not start: {e}\n{log}"));
                }
            }
        }
    }

    fn running(&mut self) -> bool {
        self.server.as_mut().is_some_and(|s| matches!(s.try_wait(), Ok(None)))
    }

    /// A URL for one of the cluster's databases.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let config = super::pg::config(&self.url("postgres"))?;
        let mut client = config.connect_raw().map_err(|e| e.to_string())?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .map_err(|e| format!("cannot create the database {name}: {e}"))?;
        Ok(self.url(name))
    }

    /// Stops the server at once (connections are cut), keeping its files.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT to the postmaster itself: PostgreSQL's fast shutdown, which ends the
            // sessions (runuser, between us and it, does not pass SIGINT on, and SIGTERM
            // would wait for every client to leave).
            let postmaster = std::fs::read_to_string(self.data().join("postmaster.pid"))
                .ok()
                .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok())
                .or_else(|| i32::try_from(server.id()).ok());
            if let Some(pid) = postmaster.and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
            }
            let _ = server.wait();
        }
    }

    /// Starts a stopped server again, on the same port with the same data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.run()
    }

    /// Serves TLS with the PEM `certificate` and `key`, and refuses TCP connections
    /// without it (for the TLS tests).
    pub fn require_tls(&mut self, certificate: &str, key: &str) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt as _;
        let data = self.data();
        let write = |name: &str, text: &str| {
            let path = data.join(name);
            std::fs::write(&path, text)
                .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        write("server.crt", certificate)?;
        write("server.key", key)?;
        let hba = std::fs::read_to_string(data.join("pg_hba.conf")).map_err(|e| e.to_string())?;
        write("pg_hba.conf", &format!("hostnossl all all all reject\n{hba}"))?;
        if let Some(user) = &self.run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .args(["server.crt", "server.key", "pg_hba.conf"].map(|name| data.join(name)))
                .status()
                .map_err(|e| format!("cannot run chown: {e}"))?;
            if !status.success() {
                return Err("cannot give the certificate to the server's user".to_owned());
            }
        }
        let config = super::pg::config(&self.url("postgres"))?;
        let mut client = config.connect_raw().map_err(|e| e.to_string())?;
        client
            .batch_execute("ALTER SYSTEM SET ssl = on")
            .map_err(|e| format!("cannot turn TLS on: {e}"))?;
        drop(client);
        self.restart()
    }

    /// Where the cluster lives.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One cluster for the whole test process, started on first use. Its server lives as
/// long as the process: the thread that started it never ends.
pub fn shared() -> Result<&'static Cluster, String> {
    static SHARED: std::sync::OnceLock<Result<Cluster, String>> = std::sync::OnceLock::new();
    SHARED
        .get_or_init(|| {
            remove_stale();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("postgres-owner".into())
                .spawn(move || {
                    let _ = tx.send(Cluster::start(false));
                    loop {
                        std::thread::park();
                    }
                })
                .map_err(|e| e.to_string())?;
            rx.recv().map_err(|e| e.to_string())?
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Cluster {
    /// A new database holding the hub's current schema, copied from a template the
    /// cluster migrates once.
    pub fn hub_database(&self) -> Result<String, String> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let template = self.template.get_or_init(|| {
            let url = self.create_database("vitrine_template")?;
            let config = super::pg::config(&url)?;
            super::open_postgres(&config).map_err(|e| e.to_string())?;
            Ok(())
        });
        template.clone()?;
        let name = format!(
            "hub_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let config = super::pg::config(&self.url("postgres"))?;
        let mut client = config.connect_raw().map_err(|e| e.to_string())?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE vitrine_template"))
            .map_err(|e| format!("cannot create the database {name}: {e}"))?;
        Ok(self.url(&name))
    }
}

/// Removes what earlier shared clusters left: their server is gone (it removes
/// `postmaster.pid` when it stops) and they are more than a minute old.
fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(60));
        if entry.file_name().to_string_lossy().starts_with("vitrine-pg-")
            && old
            && !path.join("data/postmaster.pid").exists()
        {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}
