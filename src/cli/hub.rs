//! `vitrine hub` (serve, and the admin commands that work on its data directory) and
//! `vitrine token`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use vitrine::hub::accounts::{self, Hashed, Role};
use vitrine::hub::audit::Actor;
use vitrine::hub::{self, admin, auth::Scope, customers, kiosk_settings, staff};
use vitrine::protocol::valid_ref;

/// Where a hub keeps its state: a data directory (its SQLite file) or a PostgreSQL
/// database the chain's hubs share.
#[derive(Args, Clone)]
pub struct Database {
    /// The hub's data directory (its SQLite file lives there).
    #[arg(long)]
    data: Option<PathBuf>,
    /// A PostgreSQL database instead of the SQLite file: postgres://user:password@host/db.
    #[arg(long, env = "VITRINE_DATABASE_URL", conflicts_with = "data", hide_env_values = true)]
    database: Option<String>,
}

impl Database {
    fn place(&self) -> anyhow::Result<hub::Place> {
        match (&self.database, &self.data) {
            (Some(url), _) => hub::Place::postgres(url).map_err(anyhow::Error::msg),
            (None, Some(data)) => {
                std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
                Ok(hub::Place::File(hub::db_path(data)))
            }
            (None, None) => anyhow::bail!(
                "say where the hub's data is: --data DIR (a SQLite file), or --database postgres://… \
                 (or VITRINE_DATABASE_URL)"
            ),
        }
    }

    /// A connection to it (created and migrated if needed).
    fn open(&self) -> anyhow::Result<vitrine::db::Conn> {
        let place = self.place()?;
        place
            .connect()
            .with_context(|| format!("cannot open the hub's database {}", place.describe()))
    }
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HubArgs {
    #[command(subcommand)]
    command: Option<HubCommand>,
    /// The hub's data directory: its SQLite file, or with --database only what stays
    /// local (feeds being imported).
    #[arg(long)]
    data: Option<PathBuf>,
    /// A PostgreSQL database the chain's hubs share, instead of the SQLite file:
    /// postgres://user:password@host/db.
    #[arg(long, env = "VITRINE_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Optional TOML configuration (feeds to fetch, limits).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Imports the bundled demo store (catalog, stock, staff, shops) and serves the demo
    /// customers' passes: a hub to try a kiosk or a web store against.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum HubCommand {
    /// Prints a one-time code that enrolls one kiosk in a shop.
    EnrollCode {
        #[command(flatten)]
        db: Database,
        /// The shop's code, as in the local inventory feed.
        #[arg(long)]
        store: String,
    },
    /// Web store API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sales assistants and their PINs, per shop.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The console's accounts (store ops, managers, marketing).
    #[command(subcommand)]
    Ops(OpsCommand),
    /// Remote settings for the chain, a shop (--store) or a kiosk (--kiosk); kiosks take
    /// them at their next pull.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Starts the hub's next key for customer tokens, and ends the current one at the same
    /// moment. Kiosks fetch keys every few minutes: no redeploy is needed.
    RotateTokenKey {
        #[command(flatten)]
        db: Database,
        /// When the new key starts signing, from now.
        #[arg(long, default_value_t = 60)]
        ahead_minutes: u32,
    },
    /// Moves an embedded hub's whole state (its SQLite file) into an empty PostgreSQL
    /// database, in one transaction, and checks every table's rows arrived. Stop the hub
    /// first; its data directory is left as it was.
    Migrate {
        /// The embedded hub's data directory.
        #[arg(long)]
        from_data: PathBuf,
        /// The empty PostgreSQL database: postgres://user:password@host/db.
        #[arg(long, env = "VITRINE_DATABASE_URL", hide_env_values = true)]
        to: String,
    },
}

/// Where a setting applies: the chain, unless a shop or a kiosk is named.
#[derive(Args)]
struct SettingTarget {
    #[command(flatten)]
    db: Database,
    /// A shop's code.
    #[arg(long, conflicts_with = "kiosk")]
    store: Option<String>,
    /// A kiosk's id (as the console's fleet page shows it).
    #[arg(long)]
    kiosk: Option<i64>,
}

impl SettingTarget {
    fn target(&self) -> kiosk_settings::Target {
        match (&self.store, self.kiosk) {
            (Some(store), _) => kiosk_settings::Target::Shop(store.clone()),
            (None, Some(id)) => kiosk_settings::Target::Kiosk(id),
            (None, None) => kiosk_settings::Target::Chain,
        }
    }
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Sets one: idle_seconds, warning_seconds, visit_max_minutes, language, featured,
    /// campaign, phone_sign_in.
    Set {
        #[command(flatten)]
        at: SettingTarget,
        name: String,
        value: String,
    },
    /// Gives one back to the level above.
    Unset {
        #[command(flatten)]
        at: SettingTarget,
        name: String,
    },
    /// Prints the settings set at that level.
    Show {
        #[command(flatten)]
        at: SettingTarget,
    },
}

#[derive(Subcommand)]
enum OpsCommand {
    /// Adds a console account. The password (12 characters or more) is asked twice
    /// without echo, or read from the first line of standard input when it is not a
    /// terminal.
    Add {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
        /// admin (the whole chain), manager (their shops), viewer (reads only).
        #[arg(long)]
        role: String,
        /// A shop the account is limited to (a manager needs one). Repeatable.
        #[arg(long = "store", value_name = "CODE")]
        stores: Vec<String>,
    },
    /// Sets an account's password (and unlocks it); its sessions end.
    Password {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
    },
    /// Removes an account; its sessions end.
    Remove {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
    },
    /// Lists the accounts: email, role, shops.
    List {
        #[command(flatten)]
        db: Database,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Creates a key and prints it (once) on the last line.
    Create {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        name: String,
        /// Limit the key to these scopes (default: all). Repeatable.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Lists the live keys: id, name, scopes (never a key).
    List {
        #[command(flatten)]
        db: Database,
    },
    /// Revokes a key: it opens nothing from its next request.
    Revoke {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Adds an assistant; the PIN (6 to 12 digits) is asked twice without echo, or read
    /// from the first line of standard input when it is not a terminal.
    Add(Assistant),
    /// Removes an assistant: their PIN stops working on each kiosk at its next pull.
    Remove(Assistant),
    /// Lists the assistants: shop, name, date added (never a PIN or its hash).
    List {
        #[command(flatten)]
        db: Database,
    },
    /// Writes an assistant's badge: a QR code (SVG) that picks their name on a kiosk's
    /// staff keypad. Not a credential: the PIN is still asked.
    Badge {
        #[command(flatten)]
        assistant: Assistant,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints the staff keypads' audit log (logins, wrong PINs, lockouts), oldest first.
    Log {
        #[command(flatten)]
        db: Database,
        /// Only this shop.
        #[arg(long)]
        store: Option<String>,
        /// The latest N events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// One assistant of one shop, in the hub at `db`.
#[derive(Args)]
struct Assistant {
    #[command(flatten)]
    db: Database,
    /// The shop's code, as in the local inventory feed.
    #[arg(long)]
    store: String,
    #[arg(long)]
    name: String,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Signs a customer token with the hub's current key and prints it (202 digits, for a
    /// QR code) and the customer's alias.
    Mint {
        #[command(flatten)]
        db: Database,
        /// The web store's customer reference.
        #[arg(long)]
        customer: String,
        #[arg(long, default_value_t = 5)]
        minutes: u8,
        /// As in the hub's config.
        #[arg(long, default_value = "vitrine")]
        audience: String,
    },
}

fn check_store(shop: &str) -> anyhow::Result<()> {
    anyhow::ensure!(valid_ref(shop), "a store code is 1 to 128 printable characters");
    Ok(())
}

pub fn run(args: HubArgs) -> anyhow::Result<()> {
    let Some(command) = args.command else {
        let mut config = args
            .config
            .as_deref()
            .map(hub::Config::load)
            .transpose()?
            .unwrap_or_default();
        let (data, place) = match (args.database, args.data) {
            (Some(url), data) => {
                let place = hub::Place::postgres(&url).map_err(anyhow::Error::msg)?;
                // Only feeds being imported stay local; each instance has its own, a
                // private temporary directory unless --data names one.
                let data = match data {
                    Some(data) => data,
                    None => tempfile::Builder::new()
                        .prefix("vitrine-hub-")
                        .tempdir()
                        .context("cannot make a directory for the feeds being imported")?
                        .keep(),
                };
                (data, place)
            }
            (None, Some(data)) => {
                let place = hub::Place::File(hub::db_path(&data));
                (data, place)
            }
            (None, None) => anyhow::bail!(
                "give the hub a data directory (--data DIR) or a PostgreSQL database (--database postgres://…)"
            ),
        };
        if args.demo {
            std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
            config = vitrine::demo::prepare_hub_at(&place, config)?;
        }
        return hub::run(&data, &place, args.listen, config);
    };
    match command {
        HubCommand::EnrollCode { db, store: shop } => {
            check_store(&shop)?;
            let code = admin::create_enroll_code(db.open()?.sql(), &Actor::Cli, &shop, Timestamp::now())?;
            println!(
                "one-time enrollment code for store {shop}, valid {} hours:",
                hub::auth::ENROLL_CODE_HOURS
            );
            println!("{code}");
        }
        HubCommand::Key(KeyCommand::Create { db, name, scopes }) => create_key(&db, &name, &scopes)?,
        HubCommand::Key(KeyCommand::List { db }) => {
            for key in hub::store::keys::list_keys(db.open()?.sql())? {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                println!("{}\t{}\t{}", key.id, key.name, scopes.join(" "));
            }
        }
        HubCommand::Key(KeyCommand::Revoke { db, id }) => {
            let revoked = admin::revoke_key(db.open()?.sql(), &Actor::Cli, id, Timestamp::now())?;
            anyhow::ensure!(revoked, "there is no live key with id {id}");
            println!("key {id} revoked");
        }
        HubCommand::Staff(command) => staff(command)?,
        HubCommand::Ops(command) => ops(command)?,
        HubCommand::Settings(command) => settings(command)?,
        HubCommand::RotateTokenKey { db, ahead_minutes } => {
            let conn = db.open()?;
            let conn = conn.sql();
            let ahead = jiff::SignedDuration::from_mins(i64::from(ahead_minutes));
            let now = Timestamp::now();
            customers::ensure_hub_key(conn, now)?;
            let id = customers::rotate(conn, now, ahead)?;
            admin::record(conn, &Actor::Cli, "token_key.rotate", None, &id.to_string(), now)?;
            println!("token key {id} signs from {}", now + ahead);
        }
        HubCommand::Migrate { from_data, to } => migrate(&from_data, &to)?,
    }
    Ok(())
}

fn migrate(from_data: &std::path::Path, to: &str) -> anyhow::Result<()> {
    let target = hub::store::postgres_config(to).map_err(anyhow::Error::msg)?;
    let from = hub::db_path(from_data);
    let mut total = 0;
    let moved = hub::store::migrate::migrate(&from, &target, &mut |moved| {
        total += moved.rows;
        println!("{:<24} {:>10} rows", moved.table, moved.rows);
    })
    .with_context(|| {
        format!(
            "cannot move {} to {}",
            from.display(),
            vitrine::db::pg::describe(&target)
        )
    })?;
    println!(
        "moved {total} rows in {} tables to {}; start the hubs with --database",
        moved.len(),
        vitrine::db::pg::describe(&target)
    );
    Ok(())
}

fn create_key(db: &Database, name: &str, scopes: &[String]) -> anyhow::Result<()> {
    let scopes = if scopes.is_empty() {
        Scope::ALL.to_vec()
    } else {
        scopes
            .iter()
            .map(|s| {
                Scope::parse(s).with_context(|| {
                    let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                    format!("unknown scope '{s}'; scopes are {}", known.join(", "))
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let key = admin::create_key(db.open()?.sql(), &Actor::Cli, name, &scopes, Timestamp::now())??;
    let shown: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    println!(
        "web store key '{name}' with scopes {}; it is shown only once:",
        shown.join(" ")
    );
    println!("{key}");
    Ok(())
}

fn staff(command: StaffCommand) -> anyhow::Result<()> {
    match command {
        StaffCommand::Add(Assistant { db, store, name }) => {
            check_store(&store)?;
            let pin = read_secret("PIN (6 to 12 digits): ", "The same PIN again: ", "PINs")?;
            let hash = staff::hash_pin(&pin)?;
            let id = admin::add_staff(db.open()?.sql(), &Actor::Cli, &store, &name, &hash, Timestamp::now())??;
            println!("assistant {name} added to {store} (id {id}); the shop's kiosks learn the PIN at their next pull");
        }
        StaffCommand::Remove(Assistant { db, store, name }) => {
            admin::remove_staff(db.open()?.sql(), &Actor::Cli, &store, &name, Timestamp::now())??;
            println!("assistant {name} removed from {store}");
        }
        StaffCommand::List { db } => {
            for (shop, name, added) in staff::list(db.open()?.sql())? {
                println!("{shop}\t{name}\t{}", added.strftime("%Y-%m-%d"));
            }
        }
        StaffCommand::Badge { assistant, out } => {
            let id = staff::id_of(assistant.db.open()?.sql(), &assistant.store, &assistant.name)??;
            std::fs::write(&out, staff::badge_svg(id)?).with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "badge of {} ({}) written to {}",
                assistant.name,
                assistant.store,
                out.display()
            );
        }
        StaffCommand::Log { db, store, limit } => {
            for line in staff::log(db.open()?.sql(), store.as_deref(), limit.clamp(1, 100_000))? {
                let until = line
                    .locked_until
                    .map(|t| format!("\tlocked until {t}"))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\tkiosk {}\t{}\t{}{until}",
                    line.at,
                    line.store_code,
                    line.device_id,
                    line.kind,
                    line.name.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

/// A new secret (a PIN, a password): twice without echo at a terminal, else the first
/// line of standard input.
fn read_secret(prompt: &str, again: &str, plural: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Read};
    if std::io::stdin().is_terminal() {
        let secret = rpassword::prompt_password(prompt)?;
        let repeated = rpassword::prompt_password(again)?;
        anyhow::ensure!(secret == repeated, "the two {plural} differ; nothing was changed");
        Ok(secret)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().take(1024).read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn settings(command: SettingsCommand) -> anyhow::Result<()> {
    let name = |text: &str| {
        kiosk_settings::Name::parse(text).with_context(|| {
            let known: Vec<&str> = kiosk_settings::Name::ALL.iter().map(|n| n.as_str()).collect();
            format!("unknown setting '{text}'; settings are {}", known.join(", "))
        })
    };
    let (at, change) = match &command {
        SettingsCommand::Set { at, name: n, value } => (at, Some((name(n)?, Some(value.as_str())))),
        SettingsCommand::Unset { at, name: n } => (at, Some((name(n)?, None))),
        SettingsCommand::Show { at } => (at, None),
    };
    let conn = at.db.open()?;
    let conn = conn.sql();
    let target = at.target();
    match change {
        Some((name, value)) => {
            kiosk_settings::set(conn, &Actor::Cli, &target, name, value, Timestamp::now())?
                .map_err(anyhow::Error::msg)?;
            println!("{} set; kiosks take it at their next pull", name.as_str());
        }
        None => {
            for (name, value) in kiosk_settings::at(conn, &target)? {
                println!("{}\t{}", name.as_str(), kiosk_settings::shown(name, &value));
            }
        }
    }
    Ok(())
}

fn ops(command: OpsCommand) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let password = || -> anyhow::Result<Hashed> {
        let text = read_secret(
            "Password (12 characters or more): ",
            "The same password again: ",
            "passwords",
        )?;
        Ok(Hashed::new(&text)?)
    };
    match command {
        OpsCommand::Add {
            db,
            email,
            role,
            stores,
        } => {
            let role = Role::parse(&role).context("a role is admin, manager or viewer")?;
            for shop in &stores {
                check_store(shop)?;
            }
            let hashed = password()?;
            admin::add_account(db.open()?.sql(), &Actor::Cli, &email, role, &stores, &hashed, now)??;
            println!("console account {email} added ({})", role.as_str());
        }
        OpsCommand::Password { db, email } => {
            let hashed = password()?;
            admin::set_password(db.open()?.sql(), &Actor::Cli, &email, &hashed, now)??;
            println!("password of {email} set; its sessions have ended");
        }
        OpsCommand::Remove { db, email } => {
            admin::remove_account(db.open()?.sql(), &Actor::Cli, &email, now)??;
            println!("console account {email} removed");
        }
        OpsCommand::List { db } => {
            for account in accounts::list(db.open()?.sql())? {
                println!(
                    "{}\t{}\t{}",
                    account.email,
                    account.role.as_str(),
                    account.shops.join(" ")
                );
            }
        }
    }
    Ok(())
}

pub fn token(command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Mint {
        db,
        customer,
        minutes,
        audience,
    } = command;
    anyhow::ensure!(
        valid_ref(&customer),
        "a customer reference is 1 to 128 printable characters"
    );
    let conn = db.open()?;
    let conn = conn.sql();
    let now = Timestamp::now();
    customers::ensure_hub_key(conn, now)?;
    let minted = customers::mint(conn, &customer, &audience, minutes, now)??;
    println!(
        "customer {customer} alias {} key {} expires {}",
        minted.customer_alias, minted.key_id, minted.expires_at
    );
    println!("{}", minted.token);
    Ok(())
}
