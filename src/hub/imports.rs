//! The log of feed imports (`feed_import`, `src/db/hub_v8.sql`): each upload, console
//! upload and scheduled fetch, what it did or why it was refused, and its first rejected
//! items and warnings with their line — what the console's feeds page shows. Kept 90 days.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::catalog::Summary;
use crate::catalog::feed::Notice;
use crate::db::{self, Sql, params};
use crate::protocol::params::FeedKind;

/// Most rejected items, and most warnings, kept per import.
pub const MAX_KEPT: usize = 1000;
/// How long imports are kept.
pub const KEPT_FOR: SignedDuration = SignedDuration::from_hours(90 * 24);

/// Where a feed came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `upload` (the web store's API), `console`, `fetch` (a scheduled feed).
    pub source: &'static str,
    /// The key's name, the account's email, or the feed's URL.
    pub by: String,
}

/// A rejected item or a warning, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub item: Option<usize>,
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub id: Option<String>,
    pub reason: String,
}

fn kept(notices: &[Notice]) -> String {
    let kept: Vec<Rejected> = notices
        .iter()
        .take(MAX_KEPT)
        .map(|n| Rejected {
            item: n.item,
            line: n.line,
            column: n.column,
            id: n.id.clone(),
            reason: n.reason.clone(),
        })
        .collect();
    serde_json::to_string(&kept).unwrap_or_else(|_| "[]".to_owned())
}

/// How an import ended.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    Imported(&'a Summary),
    /// The feed was refused whole; the catalog is as it was.
    Refused(String),
    /// A scheduled feed could not be fetched.
    FetchFailed(String),
}

/// Logs an import that changed nothing (refused, or not fetched) on the writer; a
/// failure to log goes to the hub's log only.
pub async fn record_unchanged(
    store: &crate::hub::store::Store,
    origin: Origin,
    kind: FeedKind,
    lang: Option<String>,
    outcome: Outcome<'static>,
) {
    let recorded = store
        .write(move |w| record(w.db(), &origin, kind, lang.as_deref(), &outcome, Timestamp::now()))
        .await;
    if let Ok(Err(e)) = recorded {
        tracing::error!(error = %e, "cannot log the feed's import");
    }
}

/// One import, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub lang: Option<String>,
    pub source: String,
    pub origin: String,
    pub outcome: String,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub rejected: u64,
    pub warnings: u64,
    pub error: Option<String>,
    pub rejections: Vec<Rejected>,
    pub warning_list: Vec<Rejected>,
}

/// Records an import; call it in the transaction of the import itself when it changed
/// the catalog.
pub fn record(
    conn: &dyn Sql,
    origin: &Origin,
    kind: FeedKind,
    lang: Option<&str>,
    outcome: &Outcome<'_>,
    now: Timestamp,
) -> db::Result<i64> {
    let (name, summary, error) = match outcome {
        Outcome::Imported(summary) => ("imported", Some(*summary), None),
        Outcome::Refused(why) => ("refused", None, Some(why.as_str())),
        Outcome::FetchFailed(why) => ("fetch_failed", None, Some(why.as_str())),
    };
    let count = |f: fn(&Summary) -> usize| summary.map_or(0, |s| f(s) as i64);
    conn.one(
        "INSERT INTO feed_import (at, kind, lang, source, origin, outcome, imported, updated, unchanged, removed,
             rejected, error, rejections, warnings, warning_list)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         RETURNING id",
        params![
            now.as_second(),
            kind.as_str(),
            lang,
            origin.source,
            origin.by,
            name,
            count(|s| s.imported),
            count(|s| s.updated),
            count(|s| s.unchanged),
            count(|s| s.removed),
            count(|s| s.rejected.len()),
            error,
            summary.map_or_else(|| "[]".to_owned(), |s| kept(&s.rejected)),
            count(|s| s.warnings.len()),
            summary.map_or_else(|| "[]".to_owned(), |s| kept(&s.warnings)),
        ],
    )
}

fn import(r: &db::Row<'_>, with_rejections: bool) -> db::Result<Import> {
    let list = |column: usize| -> db::Result<Vec<Rejected>> {
        Ok(if with_rejections {
            serde_json::from_str(&r.get::<String>(column)?).unwrap_or_default()
        } else {
            Vec::new()
        })
    };
    Ok(Import {
        id: r.get(0)?,
        at: Timestamp::from_second(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH),
        kind: r.get(2)?,
        lang: r.get(3)?,
        source: r.get(4)?,
        origin: r.get(5)?,
        outcome: r.get(6)?,
        imported: r.get(7)?,
        updated: r.get(8)?,
        unchanged: r.get(9)?,
        removed: r.get(10)?,
        rejected: r.get(11)?,
        error: r.get(12)?,
        rejections: list(13)?,
        warnings: r.get(14)?,
        warning_list: list(15)?,
    })
}

const COLUMNS: &str = "id, at, kind, lang, source, origin, outcome, imported, updated, unchanged, removed, rejected, error, rejections, \
     warnings, warning_list";

/// The latest imports, newest first, without their rejected items.
pub fn latest(conn: &dyn Sql, limit: usize) -> db::Result<Vec<Import>> {
    conn.query_map(
        &format!("SELECT {COLUMNS} FROM feed_import ORDER BY id DESC LIMIT ?1"),
        params![limit as i64],
        |r| import(r, false),
    )
}

/// One import with its rejected items.
pub fn get(conn: &dyn Sql, id: i64) -> db::Result<Option<Import>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM feed_import WHERE id = ?1"),
        params![id],
        |r| import(r, true),
    )
}

/// The latest import from `origin` (a scheduled feed's last fetch).
pub fn last_from(conn: &dyn Sql, source: &str, by: &str) -> db::Result<Option<Import>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM feed_import WHERE source = ?1 AND origin = ?2 ORDER BY id DESC LIMIT 1"),
        params![source, by],
        |r| import(r, false),
    )
}

/// Deletes imports older than [`KEPT_FOR`].
pub fn prune(conn: &dyn Sql, now: Timestamp) -> db::Result<u64> {
    conn.execute(
        "DELETE FROM feed_import WHERE at < ?1",
        params![(now - KEPT_FOR).as_second()],
    )
}
