//! What a group of pushes reads and writes, kept in memory while the group is applied.
//!
//! Applied one statement at a time, an op costs four or five round trips to the
//! database: nothing on SQLite, most of the time on PostgreSQL. So the streams, SKUs and
//! wishlist lines a group's pushes name are read before its first push, a few statements
//! in all, and the streams, lines and op records they write are written after its last,
//! the same way ([`Pending::flush`]). Lookups see the group's own writes first. A push
//! is refused before it writes anything here (see `ingest::push`), so there is nothing
//! to take back; a push the database failed fails the whole group.

use std::collections::{HashMap, HashSet};

use crate::db::{self, Param, Sql, params};
use crate::protocol::{Action, Op, Owner, PushRequest, valid_ref};

use super::merge::LineKey;

/// A wishlist line as the hub holds it, for `merge` to compare an op with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub hlc: u64,
    pub stream: String,
    pub seq: u64,
    pub present: bool,
}

/// A wishlist line to write, every column.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub key: LineKey,
    pub current: Current,
    pub channel: &'static str,
    pub store_code: Option<String>,
    pub device_id: Option<i64>,
    pub session: Option<String>,
    pub change_id: i64,
    pub changed_at: i64,
}

/// An op's record: its stream and sequence, content hash, and what came of it.
#[derive(Debug, Clone)]
pub struct OpRecord {
    pub stream: String,
    pub seq: u64,
    pub hash: i64,
    pub status: &'static str,
    pub reason: Option<&'static str>,
}

/// A stream as the hub holds it: who sends on it, and its last acknowledged sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stream {
    pub device_id: Option<i64>,
    pub key_id: Option<i64>,
    pub acked: u64,
}

#[derive(Default)]
pub struct Pending {
    /// The SKUs the catalog has, of those asked (`asked`).
    known: HashSet<String>,
    asked: HashSet<String>,
    /// Lines as the database holds them (`None`: no line), of those read.
    stored: HashMap<LineKey, Option<Current>>,
    /// Each line's last write.
    lines: HashMap<LineKey, NewLine>,
    ops: Vec<OpRecord>,
    op_at: HashMap<(String, u64), usize>,
    /// Streams as the group left them (`None`: no such stream), of those read.
    streams: HashMap<String, Option<Stream>>,
    /// The streams written, with the time to date a new one by.
    created_at: HashMap<String, i64>,
}

impl Pending {
    /// Reads what the group's ops will ask: [`Pending::with_known_skus`], then
    /// [`Pending::read_streams_and_lines`].
    pub fn prefetch(tx: &dyn Sql, requests: &[&PushRequest]) -> db::Result<Pending> {
        let mut pending = Pending::with_known_skus(tx, requests)?;
        pending.read_streams_and_lines(tx, requests)?;
        Ok(pending)
    }

    /// Reads which of the SKUs the group's ops add the catalog has. The catalog is no
    /// writer's (imports change it under a lock of their own), so this may be read
    /// before the wishlist's lock, which other hubs wait on.
    pub fn with_known_skus(tx: &dyn Sql, requests: &[&PushRequest]) -> db::Result<Pending> {
        let mut pending = Pending::default();
        pending.asked = requests
            .iter()
            .flat_map(|r| &r.ops)
            .filter(|op| op.action == Action::Add && readable(op))
            .map(|op| op.sku.clone())
            .collect();
        pending.known = crate::catalog::known_skus(tx, pending.asked.iter().map(String::as_str))?;
        Ok(pending)
    }

    /// Reads the group's streams, and the lines of the owners its ops name without an
    /// alias (an alias is resolved op by op).
    pub fn read_streams_and_lines(&mut self, tx: &dyn Sql, requests: &[&PushRequest]) -> db::Result<()> {
        let streams: HashSet<&str> = requests
            .iter()
            .map(|r| r.stream.as_str())
            .filter(|s| valid_ref(s))
            .collect();
        self.read_streams(tx, &streams)?;
        let mut keys: HashSet<LineKey> = HashSet::new();
        for op in requests.iter().flat_map(|r| &r.ops) {
            if readable(op) && !matches!(op.owner, Owner::Alias(_)) {
                let (kind, owner) = op.owner.parts();
                keys.insert(LineKey {
                    owner_kind: kind.to_owned(),
                    owner: owner.to_owned(),
                    sku: op.sku.clone(),
                });
            }
        }
        let keys: Vec<LineKey> = keys.into_iter().collect();
        let params: Vec<&dyn Param> = keys
            .iter()
            .flat_map(|k| [&k.owner_kind as &dyn Param, &k.owner, &k.sku])
            .collect();
        let mut found = HashMap::new();
        db::chunked(&params, 3, |rows, chunk| {
            // A join with the values: both databases walk the key's index once per key
            // (PostgreSQL plans an `IN` list of rows slowly, and scans more).
            tx.each(
                &format!(
                    "SELECT w.owner_kind, w.owner, w.sku, w.hlc, w.stream, w.seq, w.present
                     FROM wishlist w JOIN (VALUES {rows}) AS asked
                         ON w.owner_kind = asked.column1 AND w.owner = asked.column2 AND w.sku = asked.column3"
                ),
                chunk,
                &mut |r| {
                    let key = LineKey {
                        owner_kind: r.get(0)?,
                        owner: r.get(1)?,
                        sku: r.get(2)?,
                    };
                    found.insert(key, current(r, 3)?);
                    Ok(())
                },
            )
        })?;
        for key in keys {
            let line = found.remove(&key);
            self.stored.insert(key, line);
        }
        Ok(())
    }

    fn read_streams(&mut self, tx: &dyn Sql, ids: &HashSet<&str>) -> db::Result<()> {
        let params: Vec<&dyn Param> = ids.iter().map(|id| id as &dyn Param).collect();
        db::chunked(&params, 1, |rows, chunk| {
            tx.each(
                &format!(
                    "SELECT s.id, s.device_id, s.key_id, s.acked_seq
                     FROM stream s JOIN (VALUES {rows}) AS asked ON s.id = asked.column1"
                ),
                chunk,
                &mut |r| {
                    self.streams.insert(r.get(0)?, Some(stream(r, 1)?));
                    Ok(())
                },
            )
        })?;
        for id in ids {
            self.streams.entry((*id).to_owned()).or_insert(None);
        }
        Ok(())
    }

    /// The stream `id` as this group left it, or as the database holds it.
    pub fn stream(&mut self, tx: &dyn Sql, id: &str) -> db::Result<Option<Stream>> {
        if let Some(stream) = self.streams.get(id) {
            return Ok(*stream);
        }
        let stored = tx.query_opt(
            "SELECT device_id, key_id, acked_seq FROM stream WHERE id = ?1",
            params![id],
            |r| stream(r, 0),
        )?;
        self.streams.insert(id.to_owned(), stored);
        Ok(stored)
    }

    /// Records `stream` as it now is; `now` dates it if it is new.
    pub fn write_stream(&mut self, id: &str, stream: Stream, now: i64) {
        self.streams.insert(id.to_owned(), Some(stream));
        self.created_at.entry(id.to_owned()).or_insert(now);
    }

    /// Whether the catalog has `sku` (asked of the database only for a SKU the prefetch
    /// did not see, which a validated op should never be).
    pub fn known_sku(&mut self, tx: &dyn Sql, sku: &str) -> db::Result<bool> {
        if !self.asked.contains(sku) {
            if crate::catalog::has_sku(tx, sku)? {
                self.known.insert(sku.to_owned());
            }
            self.asked.insert(sku.to_owned());
        }
        Ok(self.known.contains(sku))
    }

    /// The line at `key` as this group left it, or as the database holds it.
    pub fn line(&mut self, tx: &dyn Sql, key: &LineKey) -> db::Result<Option<Current>> {
        if let Some(line) = self.lines.get(key) {
            return Ok(Some(line.current.clone()));
        }
        if let Some(stored) = self.stored.get(key) {
            return Ok(stored.clone());
        }
        let stored = tx.query_opt(
            "SELECT hlc, stream, seq, present FROM wishlist WHERE owner_kind = ?1 AND owner = ?2 AND sku = ?3",
            params![key.owner_kind, key.owner, key.sku],
            |r| current(r, 0),
        )?;
        self.stored.insert(key.clone(), stored.clone());
        Ok(stored)
    }

    pub fn write_line(&mut self, line: NewLine) {
        self.lines.insert(line.key.clone(), line);
    }

    /// The hash recorded for `seq` on `stream`, by this group or before it.
    pub fn op_hash(&self, tx: &dyn Sql, stream: &str, seq: u64) -> db::Result<Option<i64>> {
        if let Some(&at) = self.op_at.get(&(stream.to_owned(), seq)) {
            return Ok(Some(self.ops[at].hash));
        }
        tx.query_opt(
            "SELECT hash FROM op WHERE stream = ?1 AND seq = ?2",
            params![stream, seq],
            |r| r.get(0),
        )
    }

    pub fn record_op(&mut self, op: OpRecord) {
        self.op_at.insert((op.stream.clone(), op.seq), self.ops.len());
        self.ops.push(op);
    }

    /// Writes the group's streams and lines (each one's last state) and op records.
    pub fn flush(self, tx: &dyn Sql) -> db::Result<()> {
        let written: Vec<(&String, Stream, &i64)> = self
            .created_at
            .iter()
            .filter_map(|(id, created)| Some((id, self.streams.get(id).copied().flatten()?, created)))
            .collect();
        let params: Vec<&dyn Param> = written
            .iter()
            .flat_map(|(id, s, created)| [*id as &dyn Param, &s.device_id, &s.key_id, &s.acked, *created])
            .collect();
        db::chunked(&params, 5, |rows, chunk| {
            tx.execute(
                &format!(
                    "INSERT INTO stream (id, device_id, key_id, acked_seq, created_at) VALUES {rows}
                     ON CONFLICT (id) DO UPDATE SET acked_seq = excluded.acked_seq"
                ),
                chunk,
            )
            .map(drop)
        })?;
        let mut finals: Vec<&NewLine> = self.lines.values().collect();
        // In change order, as one statement at a time would have left them.
        finals.sort_by_key(|l| l.change_id);
        let params: Vec<&dyn Param> = finals
            .iter()
            .flat_map(|l| {
                [
                    &l.key.owner_kind as &dyn Param,
                    &l.key.owner,
                    &l.key.sku,
                    &l.current.present,
                    &l.current.hlc,
                    &l.current.stream,
                    &l.current.seq,
                    &l.channel,
                    &l.store_code,
                    &l.device_id,
                    &l.session,
                    &l.change_id,
                    &l.changed_at,
                ]
            })
            .collect();
        db::chunked(&params, 13, |rows, chunk| {
            tx.execute(
                &format!(
                    "INSERT INTO wishlist (owner_kind, owner, sku, present, hlc, stream, seq, channel, store_code,
                         device_id, session, change_id, changed_at)
                     VALUES {rows}
                     ON CONFLICT (owner_kind, owner, sku) DO UPDATE SET
                         present = excluded.present, hlc = excluded.hlc, stream = excluded.stream,
                         seq = excluded.seq, channel = excluded.channel, store_code = excluded.store_code,
                         device_id = excluded.device_id, session = excluded.session,
                         change_id = excluded.change_id, changed_at = excluded.changed_at"
                ),
                chunk,
            )
            .map(drop)
        })?;
        let params: Vec<&dyn Param> = self
            .ops
            .iter()
            .flat_map(|o| [&o.stream as &dyn Param, &o.seq, &o.hash, &o.status, &o.reason])
            .collect();
        db::chunked(&params, 5, |rows, chunk| {
            tx.execute(
                &format!("INSERT INTO op (stream, seq, hash, status, reason) VALUES {rows}"),
                chunk,
            )
            .map(drop)
        })
    }
}

/// Whether `op` names what `merge::validate` could let through: a malformed op is
/// refused without a read, and a NUL byte would fail the whole group on PostgreSQL.
fn readable(op: &Op) -> bool {
    valid_ref(&op.sku) && valid_ref(op.owner.parts().1)
}

fn stream(r: &db::Row<'_>, from: usize) -> db::Result<Stream> {
    Ok(Stream {
        device_id: r.get(from)?,
        key_id: r.get(from + 1)?,
        acked: r.get(from + 2)?,
    })
}

fn current(r: &db::Row<'_>, from: usize) -> db::Result<Current> {
    Ok(Current {
        hlc: r.get(from)?,
        stream: r.get(from + 1)?,
        seq: r.get(from + 2)?,
        present: r.get(from + 3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Op;

    fn key(owner: &str, sku: &str) -> LineKey {
        LineKey {
            owner_kind: "visit".to_owned(),
            owner: owner.to_owned(),
            sku: sku.to_owned(),
        }
    }

    fn line(owner: &str, sku: &str, hlc: u64, change_id: i64) -> NewLine {
        NewLine {
            key: key(owner, sku),
            current: Current {
                hlc,
                stream: "s".to_owned(),
                seq: hlc,
                present: true,
            },
            channel: "kiosk",
            store_code: None,
            device_id: None,
            session: None,
            change_id,
            changed_at: 0,
        }
    }

    fn op(seq: u64) -> OpRecord {
        OpRecord {
            stream: "s".to_owned(),
            seq,
            hash: seq as i64 * 10,
            status: "applied",
            reason: None,
        }
    }

    #[test]
    fn lookups_see_the_groups_writes_and_flush_writes_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let tx: &dyn Sql = &conn;
        tx.execute(
            "INSERT INTO wishlist (owner_kind, owner, sku, present, hlc, stream, seq, channel, change_id, changed_at)
             VALUES ('visit', 'v1', 'A', 0, 5, 'old', 5, 'kiosk', 1, 0)",
            params![],
        )
        .unwrap();
        let request = PushRequest {
            stream: "s".to_owned(),
            ops: ["A", "B"]
                .iter()
                .map(|sku| Op {
                    seq: 1,
                    hlc: 1,
                    owner: Owner::Visit("v1".to_owned()),
                    sku: (*sku).to_owned(),
                    action: Action::Add,
                    session: None,
                    token: None,
                })
                .collect(),
        };
        let mut pending = Pending::prefetch(tx, &[&request]).unwrap();
        assert_eq!(pending.line(tx, &key("v1", "A")).unwrap().map(|c| c.hlc), Some(5));
        assert_eq!(pending.line(tx, &key("v1", "B")).unwrap(), None);
        assert!(!pending.known_sku(tx, "A").unwrap(), "the catalog is empty");

        pending.write_line(line("v1", "A", 7, 2));
        pending.record_op(op(1));
        pending.write_line(line("v1", "A", 9, 3));
        pending.write_line(line("v1", "B", 9, 4));
        pending.record_op(op(2));
        assert_eq!(pending.line(tx, &key("v1", "A")).unwrap().map(|c| c.hlc), Some(9));
        assert_eq!(pending.op_hash(tx, "s", 2).unwrap(), Some(20));
        assert_eq!(pending.op_hash(tx, "s", 3).unwrap(), None);

        pending.flush(tx).unwrap();
        let rows: Vec<(String, i64, i64)> = tx
            .query_map(
                "SELECT sku, hlc, change_id FROM wishlist ORDER BY sku",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(rows, [("A".to_owned(), 9, 3), ("B".to_owned(), 9, 4)]);
        let ops: i64 = tx.one("SELECT count(*) FROM op", params![]).unwrap();
        assert_eq!(ops, 2);
    }

    #[test]
    fn streams_read_once_written_last_and_dated_when_made() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let tx: &dyn Sql = &conn;
        tx.batch(
            "INSERT INTO device (id, store_code, token_hash, enrolled_at) VALUES (1, 'A', x'01', 0);
             INSERT INTO stream (id, device_id, acked_seq, created_at) VALUES ('old', 1, 4, 100);",
        )
        .unwrap();
        let request = |stream: &str| PushRequest {
            stream: stream.to_owned(),
            ops: Vec::new(),
        };
        let (old, new) = (request("old"), request("new"));
        let mut pending = Pending::prefetch(tx, &[&old, &new]).unwrap();
        let device = |acked| Stream {
            device_id: Some(1),
            key_id: None,
            acked,
        };
        assert_eq!(pending.stream(tx, "old").unwrap(), Some(device(4)));
        assert_eq!(pending.stream(tx, "new").unwrap(), None);

        pending.write_stream("old", device(6), 200);
        pending.write_stream("old", device(9), 300);
        pending.write_stream("new", device(1), 200);
        pending.write_stream("new", device(2), 300);
        assert_eq!(pending.stream(tx, "old").unwrap(), Some(device(9)));
        assert_eq!(pending.stream(tx, "new").unwrap(), Some(device(2)));

        pending.flush(tx).unwrap();
        let rows: Vec<(String, i64, i64)> = tx
            .query_map(
                "SELECT id, acked_seq, created_at FROM stream ORDER BY id",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            rows,
            [("new".to_owned(), 2, 200), ("old".to_owned(), 9, 100)],
            "a stream keeps the date it was made"
        );
    }

    #[test]
    fn chunks_cover_every_row_in_few_statements() {
        for n in [0_usize, 1, 2, 3, 25, 64, 65, 200] {
            let values: Vec<i64> = (0..n as i64 * 2).collect();
            let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
            let (mut rows, mut statements) = (0, 0);
            db::chunked(&params, 2, |text, chunk| {
                assert_eq!(text.matches('(').count() * 2, chunk.len());
                rows += chunk.len() / 2;
                statements += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(rows, n);
            assert!(
                statements <= n.div_ceil(64) + 6,
                "{n} rows took {statements} statements"
            );
        }
    }
}
