//! Signed app updates for the kiosk image: two slots, an atomic switch, a trial that
//! the new app must pass or be rolled back.
//!
//! A bundle is one file: `MAGIC`, an Ed25519 signature, the length of a JSON
//! [`Header`], the header, then the app binary. The signature covers the magic and the
//! header; the header carries the binary's SHA-256 and size, so nothing unsigned is
//! ever kept. The image trusts one public key, installed on its read-only root.
//!
//! On the data partition, `Slots` keeps `a/` and `b/` (each an app and its header),
//! `current` (a symlink naming the slot in use; absent: the image's own app) and
//! `trial.json` while a new app is on probation. Every start of the kiosk service runs
//! [`Slots::choose`] as root, from the image's own binary: a trial that has started too
//! often, or outlived its deadline (counted from its first start, not its install: an
//! update may wait for the next restart), is rolled back. The app, once it has shown its
//! first screen and stayed up, writes the health mark [`mark_healthy`], which ends the
//! trial. A bundle must carry a newer version than the app running now (semantic
//! versions), unless a downgrade is asked for. Nothing here reads the clock: `now`
//! comes in.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const MAGIC: &[u8; 8] = b"VTRBNDL1";
/// The largest app a bundle may carry.
pub const MAX_APP_BYTES: u64 = 512 << 20;
const MAX_HEADER_BYTES: u32 = 4096;
/// A trial app gets this many starts to prove itself…
pub const TRIAL_STARTS: u32 = 3;
/// …and this long from its first start.
pub const TRIAL_DEADLINE: SignedDuration = SignedDuration::from_secs(180);
/// How long the app must stay up after its first frame before it calls itself healthy.
pub const HEALTHY_AFTER: std::time::Duration = std::time::Duration::from_secs(20);

/// What a bundle says of its app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub version: String,
    /// SHA-256 of the app, in hex.
    pub sha256: String,
    pub size: u64,
}

/// A key pair's halves, as the files `vitrine update keygen` writes (base64 lines).
pub fn generate_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

pub fn encode_key(bytes: &[u8; 32]) -> String {
    STANDARD.encode(bytes)
}

fn decode_32(text: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(text.trim())
        .with_context(|| format!("the {what} is not base64"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("the {what} has {} bytes, not 32", b.len()))
}

pub fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(SigningKey::from_bytes(&decode_32(&text, "signing key")?))
}

pub fn read_public_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    VerifyingKey::from_bytes(&decode_32(&text, "public key")?).context("not an Ed25519 public key")
}

fn signed_part(header: &[u8]) -> Vec<u8> {
    [MAGIC.as_slice(), header].concat()
}

/// Writes a bundle of `app` to `out`.
pub fn pack(key: &SigningKey, version: &str, app: &Path, out: &Path) -> anyhow::Result<Header> {
    ensure!(
        !version.is_empty() && version.len() <= 64 && version.chars().all(|c| c.is_ascii_graphic()),
        "the version must be 1 to 64 printable ASCII characters"
    );
    let bytes = fs::read(app).with_context(|| format!("cannot read {}", app.display()))?;
    ensure!(
        bytes.len() as u64 <= MAX_APP_BYTES,
        "the app is over {} MiB",
        MAX_APP_BYTES >> 20
    );
    let header = Header {
        version: version.to_owned(),
        sha256: format!("{:x}", Sha256::digest(&bytes)),
        size: bytes.len() as u64,
    };
    let json = serde_json::to_vec(&header)?;
    let signature = key.sign(&signed_part(&json));
    let mut file = fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(MAGIC)?;
    file.write_all(&signature.to_bytes())?;
    file.write_all(&(json.len() as u32).to_le_bytes())?;
    file.write_all(&json)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    Ok(header)
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("not a Vitrine app bundle")]
    NotABundle,
    #[error("the bundle is cut short")]
    Truncated,
    #[error("the bundle's header is unreadable: {0}")]
    BadHeader(String),
    #[error("the bundle is not signed by this image's update key")]
    BadSignature,
    #[error("the app is over the size limit")]
    TooLarge,
    #[error("the app does not match its signed checksum")]
    Tampered,
    #[error("version {new} is older than version {running}, which runs now; pass --allow-downgrade to go back to it")]
    Downgrade { new: String, running: String },
    #[error("version {0} is already installed; pass --allow-downgrade to install it again")]
    AlreadyInstalled(String),
    #[error(
        "{whose} version {version:?} is not a semantic version (such as 1.4.0), so it cannot be told newer or \
         older; pass --allow-downgrade to install the bundle anyway"
    )]
    NotSemver { whose: &'static str, version: String },
}

/// Whether a bundle of version `new` may replace the app of version `running`: only if
/// it is newer, in semantic version order (build metadata aside). Anything else is
/// refused, since a bundle signed long ago stays signed: installing it again would bring
/// back the flaws a later version fixed.
pub fn check_upgrade(new: &str, running: &str) -> Result<(), Refused> {
    let parse = |whose, version: &str| {
        semver::Version::parse(version).map_err(|_| Refused::NotSemver {
            whose,
            version: version.to_owned(),
        })
    };
    let (new_version, running_version) = (parse("the bundle's", new)?, parse("the running app's", running)?);
    match new_version.cmp_precedence(&running_version) {
        std::cmp::Ordering::Greater => Ok(()),
        std::cmp::Ordering::Equal => Err(Refused::AlreadyInstalled(new.to_owned())),
        std::cmp::Ordering::Less => Err(Refused::Downgrade {
            new: new.to_owned(),
            running: running.to_owned(),
        }),
    }
}

/// Reads and checks `bundle`, writing its app to `app_out` only as it is verified:
/// the file is removed again unless every byte matched the signed checksum.
pub fn verify(bundle: &Path, key: &VerifyingKey, app_out: &Path) -> anyhow::Result<Header> {
    let mut file = fs::File::open(bundle).with_context(|| format!("cannot open {}", bundle.display()))?;
    let header = read_header(&mut file, key)?;
    let result = copy_checked(&mut file, &header, app_out);
    if result.is_err() {
        let _ = fs::remove_file(app_out);
    }
    result.map(|()| header)
}

fn read_header(file: &mut impl Read, key: &VerifyingKey) -> anyhow::Result<Header> {
    let mut magic = [0u8; 8];
    read_exact(file, &mut magic)?;
    if &magic != MAGIC {
        return Err(Refused::NotABundle.into());
    }
    let mut signature = [0u8; 64];
    read_exact(file, &mut signature)?;
    let mut len = [0u8; 4];
    read_exact(file, &mut len)?;
    let len = u32::from_le_bytes(len);
    if len > MAX_HEADER_BYTES {
        return Err(Refused::BadHeader(format!("{len} bytes long")).into());
    }
    let mut json = vec![0u8; len as usize];
    read_exact(file, &mut json)?;
    key.verify(&signed_part(&json), &Signature::from_bytes(&signature))
        .map_err(|_| Refused::BadSignature)?;
    let header: Header = serde_json::from_slice(&json).map_err(|e| Refused::BadHeader(e.to_string()))?;
    if header.size > MAX_APP_BYTES {
        return Err(Refused::TooLarge.into());
    }
    Ok(header)
}

fn read_exact(file: &mut impl Read, buf: &mut [u8]) -> anyhow::Result<()> {
    file.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Refused::Truncated.into(),
        _ => anyhow::Error::from(e),
    })
}

fn copy_checked(file: &mut impl Read, header: &Header, out: &Path) -> anyhow::Result<()> {
    let mut app = fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut hasher = Sha256::new();
    let mut left = header.size;
    let mut buf = vec![0u8; 1 << 16];
    while left > 0 {
        let n = file.read(&mut buf[..left.min(1 << 16) as usize])?;
        if n == 0 {
            return Err(Refused::Truncated.into());
        }
        hasher.update(&buf[..n]);
        app.write_all(&buf[..n])?;
        left -= n as u64;
    }
    if file.read(&mut [0u8; 1])? != 0 || format!("{:x}", hasher.finalize()) != header.sha256 {
        return Err(Refused::Tampered.into());
    }
    app.sync_all()?;
    Ok(())
}

/// One of the two places an app can be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    A,
    B,
}

impl Slot {
    pub fn name(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
        }
    }

    fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

/// A new app on probation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trial {
    pub slot: Slot,
    /// What ran before it (`None`: the image's own app).
    pub previous: Option<Slot>,
    pub version: String,
    pub installed_at: Timestamp,
    /// Its first start, which its deadline counts from; `None` until then (and in
    /// `trial.json` files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    pub starts: u32,
}

impl Trial {
    /// When the deadline started running, if it has. A trial written before first starts
    /// were recorded, and already started, counts from its install, as it did then.
    fn clock_start(&self) -> Option<Timestamp> {
        self.started_at.or((self.starts > 0).then_some(self.installed_at))
    }
}

/// What the service should start, and what happened on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub app: PathBuf,
    pub event: Option<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The trial app reported healthy: it stays.
    Kept(String),
    /// The trial app failed its trial: the previous app is back.
    RolledBack { version: String, why: String },
    /// The trial app gets another start.
    Trying { version: String, start: u32 },
}

/// The two slots on the data partition, and the image's own app as the fallback.
pub struct Slots {
    pub dir: PathBuf,
    pub factory: PathBuf,
    /// The version of `factory`. The image's own binary runs the update commands, so it
    /// is that binary's version.
    pub factory_version: String,
    /// Where the app writes its health mark (it cannot write in `dir`).
    pub health: PathBuf,
}

const APP: &str = "vitrine";

impl Slots {
    pub fn app(&self, slot: Slot) -> PathBuf {
        self.dir.join(slot.name()).join(APP)
    }

    fn current_link(&self) -> PathBuf {
        self.dir.join("current")
    }

    fn trial_file(&self) -> PathBuf {
        self.dir.join("trial.json")
    }

    /// The slot in use, if an update was ever kept.
    pub fn current(&self) -> Option<Slot> {
        match fs::read_link(self.current_link()).ok()?.to_str()? {
            "a" => Some(Slot::A),
            "b" => Some(Slot::B),
            _ => None,
        }
    }

    pub fn trial(&self) -> anyhow::Result<Option<Trial>> {
        match fs::read(self.trial_file()) {
            Ok(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).context("trial.json is unreadable")?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context("cannot read trial.json"),
        }
    }

    /// The version each slot holds.
    pub fn version(&self, slot: Slot) -> Option<String> {
        let json = fs::read(self.dir.join(slot.name()).join("header.json")).ok()?;
        serde_json::from_slice::<Header>(&json).ok().map(|h| h.version)
    }

    /// The version running now: the kept update's, else the image's own.
    pub fn running_version(&self) -> String {
        self.current()
            .and_then(|slot| self.version(slot))
            .unwrap_or_else(|| self.factory_version.clone())
    }

    /// Verifies `bundle` into the slot not in use and makes it current on trial. What
    /// runs now is untouched until the service restarts. A bundle not newer than what
    /// runs now is refused before anything changes, unless `allow_downgrade`.
    pub fn install(
        &self,
        bundle: &Path,
        key: &VerifyingKey,
        now: Timestamp,
        allow_downgrade: bool,
    ) -> anyhow::Result<Trial> {
        if let Some(trial) = self.trial()? {
            bail!(
                "version {} is still on trial; wait for it to be kept or rolled back",
                trial.version
            );
        }
        let previous = self.current();
        let slot = previous.map_or(Slot::A, Slot::other);
        let dir = self.dir.join(slot.name());
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("cannot empty {}", dir.display()))?;
        }
        fs::create_dir_all(&dir)?;
        let app = self.app(slot);
        let header = verify(bundle, key, &app)?;
        // The version checked is the one just verified and unpacked, not one read before.
        if !allow_downgrade && let Err(e) = check_upgrade(&header.version, &self.running_version()) {
            // The slot not in use held nothing anything runs (no trial is on).
            let _ = fs::remove_dir_all(&dir);
            return Err(e.into());
        }
        set_mode(&app, 0o755)?;
        write_atomic(&dir.join("header.json"), &serde_json::to_vec_pretty(&header)?)?;
        let trial = Trial {
            slot,
            previous,
            version: header.version,
            installed_at: now,
            started_at: None,
            starts: 0,
        };
        // The trial first, then the switch: a power cut between the two leaves a trial
        // of the old slot, which the next start keeps or rolls back like any other.
        write_atomic(&self.trial_file(), &serde_json::to_vec_pretty(&trial)?)?;
        self.point_current(Some(slot))?;
        Ok(trial)
    }

    /// Decides what the service runs: before each start (`starting`, which counts a
    /// trial's starts), and from a timer while it runs (which only keeps or rolls back).
    pub fn choose(&self, now: Timestamp, starting: bool) -> anyhow::Result<Choice> {
        let Some(mut trial) = self.trial()? else {
            return Ok(Choice {
                app: self.running_app(self.current()),
                event: None,
            });
        };
        if self.healthy_since(&trial) {
            fs::remove_file(self.trial_file())?;
            return Ok(Choice {
                app: self.running_app(Some(trial.slot)),
                event: Some(Event::Kept(trial.version)),
            });
        }
        let why = if trial.starts >= TRIAL_STARTS {
            Some(format!("it did not report healthy in {} starts", trial.starts))
        } else if trial
            .clock_start()
            .is_some_and(|started| now.duration_since(started) > TRIAL_DEADLINE)
        {
            Some(format!(
                "it did not report healthy within {}s of its first start",
                TRIAL_DEADLINE.as_secs()
            ))
        } else {
            None
        };
        if let Some(why) = why {
            self.point_current(trial.previous)?;
            fs::remove_file(self.trial_file())?;
            return Ok(Choice {
                app: self.running_app(trial.previous),
                event: Some(Event::RolledBack {
                    version: trial.version,
                    why,
                }),
            });
        }
        if !starting {
            return Ok(Choice {
                app: self.app(trial.slot),
                event: None,
            });
        }
        // The deadline runs from the first start, and keeps running across restarts.
        trial.started_at = Some(trial.clock_start().unwrap_or(now));
        trial.starts += 1;
        write_atomic(&self.trial_file(), &serde_json::to_vec_pretty(&trial)?)?;
        Ok(Choice {
            app: self.app(trial.slot),
            event: Some(Event::Trying {
                version: trial.version,
                start: trial.starts,
            }),
        })
    }

    fn running_app(&self, slot: Option<Slot>) -> PathBuf {
        slot.map(|s| self.app(s))
            .filter(|app| app.is_file())
            .unwrap_or_else(|| self.factory.clone())
    }

    /// Whether the app in the trial slot wrote its health mark after it was installed.
    fn healthy_since(&self, trial: &Trial) -> bool {
        let Ok(mark) = fs::read_to_string(&self.health) else {
            return false;
        };
        let Some((app, at)) = mark.trim().split_once(' ') else {
            return false;
        };
        let same_app = fs::canonicalize(app).ok() == fs::canonicalize(self.app(trial.slot)).ok();
        same_app && at.parse::<Timestamp>().is_ok_and(|at| at >= trial.installed_at)
    }

    fn point_current(&self, slot: Option<Slot>) -> anyhow::Result<()> {
        let link = self.current_link();
        match slot {
            Some(slot) => point_link(&link, Path::new(slot.name()))?,
            None => match fs::remove_file(&link) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            },
        }
        sync_dir(&self.dir)
    }
}

/// Makes `link` a symlink to `target`, replacing what was there in one rename: a reader
/// sees the old target or the new one, never nothing.
pub fn point_link(link: &Path, target: &Path) -> anyhow::Result<()> {
    let tmp = link.with_extension("new");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    fs::rename(&tmp, link).with_context(|| format!("cannot replace {}", link.display()))?;
    Ok(())
}

/// Written by the running app once it has shown its first screen and stayed up for
/// [`HEALTHY_AFTER`]: which binary, and when.
pub fn mark_healthy(health: &Path, now: Timestamp) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    write_atomic(health, format!("{} {now}\n", exe.display()).as_bytes())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Slots, SigningKey) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("factory"), b"factory app").unwrap();
        let slots = Slots {
            dir: dir.path().join("slots"),
            factory: dir.path().join("factory"),
            factory_version: "1.0.0".into(),
            health: dir.path().join("health"),
        };
        fs::create_dir_all(&slots.dir).unwrap();
        (dir, slots, generate_key())
    }

    /// Installs a bundle of `version`, refusing a downgrade.
    fn install(dir: &Path, slots: &Slots, key: &SigningKey, version: &str, now: Timestamp) -> anyhow::Result<Trial> {
        let app = format!("app {version}");
        slots.install(
            &bundle(dir, key, version, app.as_bytes()),
            &key.verifying_key(),
            now,
            false,
        )
    }

    /// The health mark of the app in `slot`, written at `at`.
    fn mark(slots: &Slots, slot: Slot, at: Timestamp) {
        fs::write(&slots.health, format!("{} {at}\n", slots.app(slot).display())).unwrap();
    }

    fn bundle(dir: &Path, key: &SigningKey, version: &str, app: &[u8]) -> PathBuf {
        let app_path = dir.join(format!("app-{version}"));
        fs::write(&app_path, app).unwrap();
        let out = dir.join(format!("{version}.vtb"));
        pack(key, version, &app_path, &out).unwrap();
        out
    }

    fn refusal(result: anyhow::Result<impl std::fmt::Debug>) -> Refused {
        result.unwrap_err().downcast::<Refused>().unwrap()
    }

    #[test]
    fn a_bundle_round_trips_and_any_change_is_refused() {
        let (dir, _, key) = setup();
        let path = bundle(dir.path(), &key, "1.2.0", b"new app");
        let out = dir.path().join("out");
        let header = verify(&path, &key.verifying_key(), &out).unwrap();
        assert_eq!(
            (header.version.as_str(), fs::read(&out).unwrap()),
            ("1.2.0", b"new app".to_vec())
        );

        let original = fs::read(&path).unwrap();
        let mut flipped = original.clone();
        *flipped.last_mut().unwrap() ^= 1;
        fs::write(&path, &flipped).unwrap();
        assert_eq!(refusal(verify(&path, &key.verifying_key(), &out)), Refused::Tampered);
        assert!(!out.exists(), "a tampered app is not left behind");

        let mut header_changed = original.clone();
        header_changed[80] ^= 1;
        fs::write(&path, &header_changed).unwrap();
        assert_eq!(
            refusal(verify(&path, &key.verifying_key(), &out)),
            Refused::BadSignature
        );

        fs::write(&path, &original).unwrap();
        let stranger = generate_key().verifying_key();
        assert_eq!(refusal(verify(&path, &stranger, &out)), Refused::BadSignature);

        fs::write(&path, &original[..original.len() - 2]).unwrap();
        assert_eq!(refusal(verify(&path, &key.verifying_key(), &out)), Refused::Truncated);
        fs::write(&path, b"#!/bin/sh\n").unwrap();
        assert_eq!(refusal(verify(&path, &key.verifying_key(), &out)), Refused::NotABundle);
    }

    #[test]
    fn a_healthy_update_is_kept_and_the_next_goes_to_the_other_slot() {
        let (dir, slots, key) = setup();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert_eq!(slots.choose(now, true).unwrap().app, slots.factory);

        let trial = install(dir.path(), &slots, &key, "2.0.0", now).unwrap();
        assert_eq!((trial.slot, trial.previous, trial.started_at), (Slot::A, None, None));
        let choice = slots.choose(now, true).unwrap();
        assert_eq!(choice.app, slots.app(Slot::A));
        assert!(matches!(choice.event, Some(Event::Trying { start: 1, .. })));

        mark(&slots, Slot::A, now + SignedDuration::from_secs(30));
        let choice = slots.choose(now + SignedDuration::from_secs(40), false).unwrap();
        assert_eq!(choice.event, Some(Event::Kept("2.0.0".into())));
        assert_eq!((slots.current(), slots.trial().unwrap()), (Some(Slot::A), None));

        let trial = install(dir.path(), &slots, &key, "3.0.0", now).unwrap();
        assert_eq!((trial.slot, trial.previous), (Slot::B, Some(Slot::A)));
        assert_eq!(slots.version(Slot::A).as_deref(), Some("2.0.0"));
        let again = install(dir.path(), &slots, &key, "4.0.0", now);
        assert!(again.unwrap_err().to_string().contains("still on trial"));
    }

    #[test]
    fn an_update_that_never_reports_healthy_is_rolled_back() {
        let (dir, slots, key) = setup();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        install(dir.path(), &slots, &key, "2.0.0", now).unwrap();
        for start in 1..=TRIAL_STARTS {
            assert_eq!(
                slots.choose(now, true).unwrap().app,
                slots.app(Slot::A),
                "start {start}"
            );
        }
        // A health mark from before the install (the previous app's) does not count.
        mark(&slots, Slot::A, now - SignedDuration::from_secs(1));
        let choice = slots.choose(now, true).unwrap();
        assert_eq!(choice.app, slots.factory);
        assert!(matches!(choice.event, Some(Event::RolledBack { .. })));
        assert_eq!((slots.current(), slots.trial().unwrap()), (None, None));
    }

    #[test]
    fn the_deadline_counts_from_the_first_start_not_the_install() {
        let (dir, slots, key) = setup();
        let installed: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let secs = SignedDuration::from_secs;
        install(dir.path(), &slots, &key, "2.0.0", installed).unwrap();
        // Not started yet: the timer's checks leave it waiting, however long.
        let later = installed + SignedDuration::from_hours(1);
        assert_eq!(
            slots.choose(later, false).unwrap(),
            Choice {
                app: slots.app(Slot::A),
                event: None
            }
        );
        assert_eq!(slots.trial().unwrap().unwrap().started_at, None);

        let choice = slots.choose(later, true).unwrap();
        assert!(
            matches!(choice.event, Some(Event::Trying { start: 1, .. })),
            "{choice:?}"
        );
        assert_eq!(slots.trial().unwrap().unwrap().started_at, Some(later));
        // A restart does not move the first start.
        slots.choose(later + secs(100), true).unwrap();
        assert_eq!(slots.trial().unwrap().unwrap().started_at, Some(later));
        assert_eq!(slots.choose(later + TRIAL_DEADLINE, false).unwrap().event, None);
        let choice = slots.choose(later + TRIAL_DEADLINE + secs(1), false).unwrap();
        assert_eq!(
            choice.event,
            Some(Event::RolledBack {
                version: "2.0.0".into(),
                why: "it did not report healthy within 180s of its first start".into()
            })
        );

        // Started an hour after its install, healthy a minute later: kept.
        install(dir.path(), &slots, &key, "3.0.0", installed).unwrap();
        slots.choose(later, true).unwrap();
        assert_eq!(slots.choose(later + secs(30), false).unwrap().event, None);
        mark(&slots, Slot::A, later + secs(50));
        let choice = slots.choose(later + secs(60), false).unwrap();
        assert_eq!(choice.event, Some(Event::Kept("3.0.0".into())));
    }

    #[test]
    fn a_trial_file_without_a_first_start_still_reads() {
        let (_dir, slots, _) = setup();
        let old = r#"{"slot":"a","previous":null,"version":"2.0.0","installed_at":"2026-11-23T10:00:00Z","starts":1}"#;
        fs::write(slots.dir.join("trial.json"), old).unwrap();
        let trial = slots.trial().unwrap().unwrap();
        assert_eq!(
            (trial.started_at, trial.clock_start()),
            (None, Some(trial.installed_at))
        );
    }

    #[test]
    fn an_older_or_equal_version_is_refused_unless_a_downgrade_is_allowed() {
        let (dir, slots, key) = setup();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let refused = |version: &str| refusal(install(dir.path(), &slots, &key, version, now));
        // The image's own app is 1.0.0.
        let older = refused("0.9.0");
        assert_eq!(
            older.to_string(),
            "version 0.9.0 is older than version 1.0.0, which runs now; \
            pass --allow-downgrade to go back to it"
        );
        assert_eq!(refused("1.0.0"), Refused::AlreadyInstalled("1.0.0".into()));
        assert_eq!(
            refused("1.0.0+rebuilt"),
            Refused::AlreadyInstalled("1.0.0+rebuilt".into())
        );
        assert_eq!(
            refused("nightly"),
            Refused::NotSemver {
                whose: "the bundle's",
                version: "nightly".into()
            }
        );
        assert_eq!(
            (slots.current(), slots.trial().unwrap()),
            (None, None),
            "nothing changed"
        );
        assert!(!slots.dir.join("a").exists());

        let allowed = slots.install(
            &bundle(dir.path(), &key, "0.9.0", b"old"),
            &key.verifying_key(),
            now,
            true,
        );
        assert_eq!(allowed.unwrap().version, "0.9.0");
        assert_eq!(check_upgrade("1.10.0", "1.9.0"), Ok(()));
        assert_eq!(check_upgrade("1.0.0", "1.0.0-rc.1"), Ok(()));
        assert!(matches!(
            check_upgrade("2.0.0", "v1"),
            Err(Refused::NotSemver {
                whose: "the running app's",
                ..
            })
        ));
    }
}
