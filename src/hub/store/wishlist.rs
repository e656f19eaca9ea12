//! The web store's view of the wishlists: the changes feed and its snapshot, one
//! customer's list, and erasure.

use jiff::Timestamp;
use rusqlite::{Connection, params};

use crate::hub::{auth, customers};
use crate::protocol::{Origin, Owner, WishlistLine};

/// Erases a customer's wishlist lines and refuses their later ops. One transaction.
pub fn erase_customer(conn: &mut Connection, customer: &str, now: Timestamp) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let removed = tx.execute(
        "DELETE FROM wishlist WHERE owner_kind = 'customer' AND owner = ?1",
        [customer],
    )?;
    customers::forget(&tx, customer)?;
    tx.execute(
        "INSERT OR IGNORE INTO erased_customer (ref_hash, erased_at) VALUES (?1, ?2)",
        params![auth::hash(customer), now.as_second()],
    )?;
    tx.commit()?;
    Ok(removed as u64)
}

const LINE_COLUMNS: &str = "owner_kind, owner, sku, present, hlc, stream, seq, channel, store_code, device_id,
    session, changed_at, change_id";

fn line(r: &rusqlite::Row<'_>) -> rusqlite::Result<(WishlistLine, i64)> {
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
/// the last one, and whether more follow. With `snapshot`, removals are left out, and
/// the last page's position is the feed's end, so a client can go on with changes.
pub fn wishlist_page(
    conn: &Connection,
    after: i64,
    limit: usize,
    snapshot: bool,
) -> rusqlite::Result<(Vec<WishlistLine>, i64, bool)> {
    let filter = if snapshot { "AND present" } else { "" };
    let tx = conn.unchecked_transaction()?;
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {LINE_COLUMNS} FROM wishlist WHERE change_id > ?1 {filter} ORDER BY change_id LIMIT ?2"
    ))?;
    let mut rows: Vec<(WishlistLine, i64)> = stmt
        .query_map(params![after, limit as i64 + 1], line)?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let mut last = rows.last().map_or(after, |(_, id)| *id);
    if snapshot && !has_more {
        let end: i64 = tx.query_row("SELECT COALESCE(MAX(change_id), 0) FROM wishlist", [], |r| r.get(0))?;
        last = last.max(end);
    }
    drop(stmt);
    tx.finish()?;
    Ok((rows.into_iter().map(|(l, _)| l).collect(), last, has_more))
}

/// A customer's current wishlist (present lines), most recent first.
pub fn customer_wishlist(conn: &Connection, customer: &str) -> rusqlite::Result<Vec<WishlistLine>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LINE_COLUMNS} FROM wishlist WHERE owner_kind = 'customer' AND owner = ?1 AND present
         ORDER BY hlc DESC"
    ))?;
    stmt.query_map([customer], |r| line(r).map(|(l, _)| l))?.collect()
}

/// Whether the web store erased this customer (their reference is kept only hashed).
pub fn is_erased(conn: &Connection, customer: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM erased_customer WHERE ref_hash = ?1)")?
        .query_row([auth::hash(customer)], |r| r.get(0))
}
