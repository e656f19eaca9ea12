//! Leases on work one hub does for all (`hub_lease`): a scheduled feed fetch, an export,
//! the retention sweep. With one hub on its SQLite file the lease is always its own; with
//! several on PostgreSQL, the first to ask holds it until it runs out, renewing it while
//! it works, and another takes over if it stops.

use jiff::{SignedDuration, Timestamp};

use crate::db::{self, Sql, params};

/// Takes or renews the lease `name` for `holder` until `now + length`: whether it holds it.
pub fn take(conn: &dyn Sql, name: &str, holder: &str, length: SignedDuration, now: Timestamp) -> db::Result<bool> {
    let changed = conn.execute(
        "INSERT INTO hub_lease (name, holder, until) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
         WHERE hub_lease.holder = excluded.holder OR hub_lease.until <= ?4",
        params![name, holder, (now + length).as_millisecond(), now.as_millisecond()],
    )?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    #[test]
    fn a_lease_is_one_holders_until_it_runs_out() {
        let conn = crate::db::open(std::path::Path::new(":memory:"), crate::db::Schema::Hub).unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let minute = SignedDuration::from_mins(1);
        assert!(super::take(&conn, "export", "a", minute, now).unwrap());
        assert!(!super::take(&conn, "export", "b", minute, now).unwrap());
        assert!(super::take(&conn, "export", "a", minute, now + minute / 2).unwrap());
        assert!(!super::take(&conn, "export", "b", minute, now + minute).unwrap());
        assert!(super::take(&conn, "export", "b", minute, now + minute * 2).unwrap());
        assert!(super::take(&conn, "prune", "b", minute, now).unwrap());
    }
}
