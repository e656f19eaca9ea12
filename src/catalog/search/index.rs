//! The search index in the kiosk's SQLite file (`search_posting`, `src/db/kiosk_v9.sql`):
//! for each folded term of a language, the product groups it is in, each with the best
//! field it is in. Terms ending in `*` are the one- and two-letter prefixes of its
//! words, so that a shopper's first letter reads one row, not thousands.
//!
//! It is kept in the catalog change's own transaction: [`rebuild_group`] records what a
//! group's terms were and are in a [`Delta`], and [`Delta::flush`] rewrites each touched
//! term's row once.

use std::collections::{BTreeMap, HashMap};

use crate::db::{self, Sql};

use super::tokens;

/// Where a term is in a product group: the lower, the better it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Field {
    Title = 0,
    Brand = 1,
    Category = 2,
    Colors = 3,
    Description = 4,
}

impl Field {
    pub fn from_code(code: u8) -> Field {
        match code {
            0 => Field::Title,
            1 => Field::Brand,
            2 => Field::Category,
            3 => Field::Colors,
            _ => Field::Description,
        }
    }
}

/// How much of a description is indexed (its start says what the product is).
pub const DESCRIPTION_CHARS: usize = 1_000;

/// A product group's searchable text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Doc {
    pub title: String,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub colors: String,
    pub description: String,
}

impl Doc {
    /// Each term of the group with the best field it is in, and its terms' one- and
    /// two-letter prefixes.
    pub fn terms(&self) -> BTreeMap<String, Field> {
        let mut terms: BTreeMap<String, Field> = BTreeMap::new();
        let mut add = |term: String, field: Field| {
            terms.entry(term).and_modify(|f| *f = (*f).min(field)).or_insert(field);
        };
        let description: String = self.description.chars().take(DESCRIPTION_CHARS).collect();
        let texts = [
            (self.title.as_str(), Field::Title),
            (self.brand.as_deref().unwrap_or(""), Field::Brand),
            (self.category.as_deref().unwrap_or(""), Field::Category),
            (self.colors.as_str(), Field::Colors),
            (description.as_str(), Field::Description),
        ];
        for (text, field) in texts {
            tokens::index_terms(text, |term| {
                for len in 1..=2.min(term.len()) {
                    add(format!("{}*", &term[..len]), field);
                }
                add(term, field);
            });
        }
        terms
    }
}

/// A posting list: product ids in increasing order, each with its field.
pub type Postings = Vec<(u32, Field)>;

/// Varint-coded `(id delta << 3 | field)`.
pub fn encode(postings: &[(u32, Field)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(postings.len() * 3);
    let mut last = 0u32;
    for &(id, field) in postings {
        let mut v = (u64::from(id - last) << 3) | field as u64;
        last = id;
        loop {
            let byte = (v & 0x7F) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// The inverse of [`encode`]; a damaged blob yields what could be read.
pub fn decode(bytes: &[u8], out: &mut Postings) {
    let (mut id, mut v, mut shift) = (0u32, 0u64, 0u32);
    for &byte in bytes {
        v |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 != 0 {
            shift += 7;
            if shift > 63 {
                return;
            }
            continue;
        }
        id = id.saturating_add((v >> 3) as u32);
        out.push((id, Field::from_code((v & 7) as u8)));
        (v, shift) = (0, 0);
    }
}

/// The index changes of one catalog transaction, written once per term by [`Delta::flush`].
#[derive(Debug, Default)]
pub struct Delta {
    changes: HashMap<(String, String), Change>,
}

#[derive(Debug, Default)]
struct Change {
    remove: Vec<u32>,
    add: Vec<(u32, Field)>,
}

impl Delta {
    /// A group's terms went from `old` (under `old_id`) to `new` (under `new_id`).
    pub fn replace(
        &mut self,
        lang: &str,
        old: Option<(u32, &BTreeMap<String, Field>)>,
        new: Option<(u32, &BTreeMap<String, Field>)>,
    ) {
        if let Some((id, terms)) = old {
            for (term, field) in terms {
                let unchanged = new.is_some_and(|(new_id, n)| new_id == id && n.get(term) == Some(field));
                if !unchanged {
                    self.change(lang, term).remove.push(id);
                }
            }
        }
        if let Some((id, terms)) = new {
            for (term, field) in terms {
                let unchanged = old.is_some_and(|(old_id, o)| old_id == id && o.get(term) == Some(field));
                if !unchanged {
                    self.change(lang, term).add.push((id, *field));
                }
            }
        }
    }

    fn change(&mut self, lang: &str, term: &str) -> &mut Change {
        self.changes.entry((lang.to_owned(), term.to_owned())).or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Rewrites each touched term's row once, and marks the index changed (for the
    /// caches of every connection). Returns whether the vocabulary itself changed.
    pub fn flush(self, tx: &dyn Sql) -> db::Result<bool> {
        if self.changes.is_empty() {
            return Ok(false);
        }
        let mut vocabulary_changed = false;
        let mut postings = Postings::new();
        for ((lang, term), change) in self.changes {
            postings.clear();
            let existing: Option<Vec<u8>> = tx.query_opt(
                "SELECT postings FROM search_posting WHERE lang = ?1 AND term = ?2",
                db::params![lang, term],
                |r| r.get(0),
            )?;
            if let Some(bytes) = &existing {
                decode(bytes, &mut postings);
            }
            let mut removed: Vec<u32> = change.remove;
            removed.extend(change.add.iter().map(|(id, _)| *id));
            removed.sort_unstable();
            postings.retain(|(id, _)| removed.binary_search(id).is_err());
            postings.extend(change.add);
            postings.sort_unstable_by_key(|(id, _)| *id);
            postings.dedup_by_key(|(id, _)| *id);
            if postings.is_empty() {
                if existing.is_some() {
                    tx.execute(
                        "DELETE FROM search_posting WHERE lang = ?1 AND term = ?2",
                        db::params![lang, term],
                    )?;
                    vocabulary_changed = true;
                }
            } else {
                vocabulary_changed |= existing.is_none();
                tx.execute(
                    "INSERT INTO search_posting (lang, term, postings) VALUES (?1, ?2, ?3)
                     ON CONFLICT (lang, term) DO UPDATE SET postings = excluded.postings",
                    db::params![lang, term, encode(&postings)],
                )?;
            }
        }
        bump(tx, "search_version")?;
        if vocabulary_changed {
            bump(tx, "search_vocabulary")?;
        }
        Ok(vocabulary_changed)
    }
}

/// Increments a counter in `catalog_meta`.
pub fn bump(tx: &dyn Sql, key: &str) -> db::Result<()> {
    tx.execute(
        "INSERT INTO catalog_meta (key, value) VALUES (?1, '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(catalog_meta.value AS BIGINT) + 1 AS TEXT)",
        db::params![key],
    )?;
    Ok(())
}

/// A group's searchable text as stored (`None` if there is no such product row).
pub fn stored_doc(tx: &dyn Sql, id: i64) -> db::Result<Option<Doc>> {
    tx.query_opt(
        "SELECT title, brand, category, colors, search_text FROM product WHERE id = ?1",
        db::params![id],
        |r| {
            Ok(Doc {
                title: r.get(0)?,
                brand: r.get(1)?,
                category: r.get(2)?,
                colors: r.get(3)?,
                description: r.get(4)?,
            })
        },
    )
}

/// Groups indexed per flush when building: bounds the memory a build holds.
const BUILD_CHUNK: usize = 20_000;

/// Indexes every product group (a catalog imported before the index existed), into an
/// empty index.
pub fn build(tx: &dyn Sql) -> db::Result<()> {
    let rows: Vec<(i64, String)> = tx.query_map("SELECT id, lang FROM product", db::params![], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    for chunk in rows.chunks(BUILD_CHUNK) {
        let mut delta = Delta::default();
        for (id, lang) in chunk {
            if let (Some(doc), Ok(id)) = (stored_doc(tx, *id)?, u32::try_from(*id)) {
                delta.replace(lang, None, Some((id, &doc.terms())));
            }
        }
        delta.flush(tx)?;
    }
    bump(tx, "search_version")?;
    bump(tx, "search_vocabulary")?;
    tx.execute(
        "INSERT INTO catalog_meta (key, value) VALUES ('search_index', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        db::params![super::INDEX_VERSION],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_round_trip() {
        let postings = vec![
            (1, Field::Title),
            (2, Field::Description),
            (70_000, Field::Brand),
            (u32::MAX, Field::Colors),
        ];
        let mut back = Vec::new();
        decode(&encode(&postings), &mut back);
        assert_eq!(back, postings);
        let mut damaged = Vec::new();
        decode(&[0xFF; 20], &mut damaged);
        assert!(damaged.is_empty());
    }

    #[test]
    fn a_doc_keeps_each_terms_best_field_and_head_prefixes() {
        let doc = Doc {
            title: "Robe lin".into(),
            brand: Some("Lina".into()),
            category: None,
            colors: "Rouge".into(),
            description: "Une robe en lin lavé, rare.".into(),
        };
        let terms = doc.terms();
        assert_eq!(terms["robe"], Field::Title);
        assert_eq!(terms["rare"], Field::Description);
        assert_eq!(terms["r*"], Field::Title);
        assert_eq!(terms["ro*"], Field::Title);
        assert_eq!(terms["ra*"], Field::Description);
        assert_eq!(terms["un*"], Field::Description);
    }
}
