//! The audit log (`src/db/hub_v8.sql`): every change made from the console, the CLI and
//! the web store's API, who made it and to what. Append-only: the database refuses to
//! update or delete a line. Never holds a secret (a PIN, a password, a key) or a
//! shopper's identity.

use jiff::Timestamp;

use crate::db::{self, Sql, params};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in to the console.
    Console { email: String },
    /// The `vitrine hub …` command on the hub's machine.
    Cli,
    /// A web store API key.
    Key { id: i64, name: String },
    /// A kiosk, with its device credential.
    Kiosk { id: i64 },
}

impl Actor {
    /// How the log names it.
    pub fn name(&self) -> String {
        match self {
            Actor::Console { email } => format!("console:{email}"),
            Actor::Cli => "cli".to_owned(),
            Actor::Key { id, name } => format!("key:{id} ({name})"),
            Actor::Kiosk { id } => format!("kiosk:{id}"),
        }
    }
}

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub store_code: Option<String>,
    pub target: String,
    pub detail: String,
}

/// What a change was, for [`record`].
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// `group.verb`, e.g. `staff.add`.
    pub action: &'a str,
    /// The shop it concerns, if one.
    pub store: Option<&'a str>,
    pub target: &'a str,
    pub detail: &'a str,
}

/// Records a change; call it in the transaction that makes it.
pub fn record(conn: &dyn Sql, actor: &Actor, change: Change<'_>, now: Timestamp) -> db::Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, store_code, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            now.as_second(),
            actor.name(),
            change.action,
            change.store,
            change.target,
            change.detail
        ],
    )?;
    Ok(())
}

/// Which lines to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these shops' lines (and none of the chain's); `None`: every line.
    pub shops: Option<Vec<String>>,
    /// Only this shop.
    pub store: Option<String>,
    /// Actions starting with this (`staff.` for every staff change).
    pub action: Option<String>,
    /// Actors containing this.
    pub actor: Option<String>,
    /// Lines older than this id (the next page).
    pub before: Option<i64>,
    pub limit: usize,
}

/// Lines matching `filter`, newest first. Actions and actors match without case (ASCII),
/// as SQLite's `LIKE` did.
pub fn list(conn: &dyn Sql, filter: &Filter) -> db::Result<Vec<Entry>> {
    let shops = filter
        .shops
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_default());
    let like = |text: &Option<String>, prefix_only: bool| {
        text.as_deref().map(|t| {
            let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            if prefix_only {
                format!("{escaped}%")
            } else {
                format!("%{escaped}%")
            }
        })
    };
    let in_shops = conn.pick(
        "SELECT value FROM json_each(?1)",
        "SELECT jsonb_array_elements_text(CAST(?1 AS TEXT)::jsonb)",
    );
    conn.query_map(
        &format!(
            "SELECT id, at, actor, action, store_code, target, detail FROM audit_log
             WHERE (CAST(?1 AS TEXT) IS NULL OR store_code IN ({in_shops}))
               AND (CAST(?2 AS TEXT) IS NULL OR store_code = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR LOWER(action) LIKE LOWER(?3) ESCAPE '\\')
               AND (CAST(?4 AS TEXT) IS NULL OR LOWER(actor) LIKE LOWER(?4) ESCAPE '\\')
               AND (CAST(?5 AS BIGINT) IS NULL OR id < ?5)
             ORDER BY id DESC LIMIT ?6"
        ),
        params![
            shops,
            filter.store,
            like(&filter.action, true),
            like(&filter.actor, false),
            filter.before,
            filter.limit.clamp(1, 1000) as i64
        ],
        |r| {
            Ok(Entry {
                id: r.get(0)?,
                at: Timestamp::from_second(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH),
                actor: r.get(2)?,
                action: r.get(3)?,
                store_code: r.get(4)?,
                target: r.get::<Option<String>>(5)?.unwrap_or_default(),
                detail: r.get::<Option<String>>(6)?.unwrap_or_default(),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_newest_first_filtered_and_never_changed() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let change = |action, store| Change {
            action,
            store,
            target: "Léa",
            detail: "",
        };
        record(&conn, &Actor::Cli, change("staff.add", Some("PARIS")), now).unwrap();
        let ops = Actor::Console {
            email: "ops@x.fr".into(),
        };
        record(&conn, &ops, change("staff.remove", Some("LYON")), now).unwrap();
        record(&conn, &ops, change("key.create", None), now).unwrap();

        let all = list(
            &conn,
            &Filter {
                limit: 10,
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(
            all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["key.create", "staff.remove", "staff.add"]
        );
        let paris_only = Filter {
            shops: Some(vec!["PARIS".into()]),
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(
            list(&conn, &paris_only).unwrap().len(),
            1,
            "a shop's manager sees neither other shops nor the chain"
        );
        let staff = Filter {
            action: Some("staff.".into()),
            actor: Some("console".into()),
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(list(&conn, &staff).unwrap().len(), 1);
        let percent = Filter {
            action: Some("%".into()),
            limit: 10,
            ..Filter::default()
        };
        assert!(
            list(&conn, &percent).unwrap().is_empty(),
            "a % is a character, not a wildcard"
        );

        let db: &dyn Sql = &conn;
        assert!(db.execute("UPDATE audit_log SET actor = 'nobody'", params![]).is_err());
        assert!(db.execute("DELETE FROM audit_log", params![]).is_err());
        assert_eq!(
            list(
                &conn,
                &Filter {
                    limit: 10,
                    ..Filter::default()
                }
            )
            .unwrap()
            .len(),
            3
        );
    }
}
