//! The web store's view of the wishlists: the changes feed and its snapshot, one
//! customer's list, and erasure.

use crate::db::{self, Sql, params};
use jiff::Timestamp;

use crate::hub::{auth, customers, grants};
use crate::protocol::webhooks::{CUSTOMER_ERASED, CustomerErased};
use crate::protocol::{Origin, Owner, WishlistLine};

/// Erases a customer's wishlist lines and refuses their later ops; their alias goes on
/// the list kiosks pull to delete what they hold. One transaction.
pub fn erase_customer(conn: &dyn Sql, customer: &str, now: Timestamp) -> db::Result<u64> {
    let tx = conn.begin()?;
    db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST)?;
    let removed = tx.execute(
        "DELETE FROM wishlist WHERE owner_kind = 'customer' AND owner = ?1",
        params![customer],
    )?;
    grants::note_erased(&*tx, customer, now)?;
    customers::forget(&*tx, customer)?;
    crate::hub::measure::forget(&*tx, customer)?;
    let erased = CustomerErased {
        customer: customer.to_owned(),
    };
    crate::hub::webhooks::enqueue(&*tx, CUSTOMER_ERASED, &erased, now)?;
    tx.execute(
        "INSERT INTO erased_customer (ref_hash, erased_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![auth::hash(customer), now.as_second()],
    )?;
    tx.commit()?;
    Ok(removed)
}

const LINE_COLUMNS: &str = "owner_kind, owner, sku, present, hlc, stream, seq, channel, store_code, device_id,
    session, changed_at, change_id";

fn line(r: &db::Row<'_>) -> db::Result<(WishlistLine, i64)> {
    let kind: String = r.get(0)?;
    let owner: String = r.get(1)?;
    let changed: i64 = r.get(11)?;
    Ok((
        WishlistLine {
            owner: Owner::from_parts(&kind, owner),
            sku: r.get(2)?,
            present: r.get(3)?,
            hlc: r.get(4)?,
            stream: r.get(5)?,
            seq: r.get(6)?,
            origin: Origin {
                channel: r.get(7)?,
                store_code: r.get(8)?,
                device_id: r.get(9)?,
                session: r.get(10)?,
            },
            changed_at: Timestamp::from_millisecond(changed)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_string(),
        },
        r.get(12)?,
    ))
}

/// A page of the wishlist changes feed after `after`: lines in change order, the id of
/// the last one, and whether more follow.
pub fn wishlist_page(conn: &dyn Sql, after: i64, limit: usize) -> db::Result<(Vec<WishlistLine>, i64, bool)> {
    let mut rows: Vec<(WishlistLine, i64)> = conn.query_map(
        &format!("SELECT {LINE_COLUMNS} FROM wishlist WHERE change_id > ?1 ORDER BY change_id LIMIT ?2"),
        params![after, limit as i64 + 1],
        line,
    )?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let last = rows.last().map_or(after, |(_, id)| *id);
    Ok((rows.into_iter().map(|(l, _)| l).collect(), last, has_more))
}

/// A page of a snapshot: the present lines whose last change is after `after` and at
/// most `end`, in change order.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotPage {
    pub lines: Vec<WishlistLine>,
    /// Where the next page starts.
    pub position: i64,
    /// The changes feed's end when the snapshot began: the snapshot covers changes up to
    /// it, and the changes feed takes over from it. A line changed meanwhile (removed,
    /// say) has a later change id: the changes feed brings it.
    pub end: i64,
    pub has_more: bool,
}

/// A page of a snapshot (see [`SnapshotPage`]); `end` is `None` on the first page, which
/// takes the feed's end now.
pub fn snapshot_page(conn: &dyn Sql, after: i64, end: Option<i64>, limit: usize) -> db::Result<SnapshotPage> {
    let tx = conn.begin_read()?;
    let end = match end {
        Some(end) => end,
        None => tx.one("SELECT COALESCE(MAX(change_id), 0) FROM wishlist", params![])?,
    };
    let mut rows: Vec<(WishlistLine, i64)> = tx.query_map(
        &format!(
            "SELECT {LINE_COLUMNS} FROM wishlist WHERE change_id > ?1 AND change_id <= ?2 AND present = 1
             ORDER BY change_id LIMIT ?3"
        ),
        params![after, end, limit as i64 + 1],
        line,
    )?;
    tx.commit()?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let position = rows.last().map_or(after, |(_, id)| *id);
    Ok(SnapshotPage {
        lines: rows.into_iter().map(|(l, _)| l).collect(),
        position,
        end,
        has_more,
    })
}

/// A customer's current wishlist (present lines), most recent first.
pub fn customer_wishlist(conn: &dyn Sql, customer: &str) -> db::Result<Vec<WishlistLine>> {
    conn.query_map(
        &format!(
            "SELECT {LINE_COLUMNS} FROM wishlist WHERE owner_kind = 'customer' AND owner = ?1 AND present = 1
             ORDER BY hlc DESC"
        ),
        params![customer],
        |r| line(r).map(|(l, _)| l),
    )
}

/// Whether the web store erased this customer (their reference is kept only hashed).
pub fn is_erased(conn: &dyn Sql, customer: &str) -> db::Result<bool> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM erased_customer WHERE ref_hash = ?1)",
        params![auth::hash(customer)],
    )
}
