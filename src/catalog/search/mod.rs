//! Search as shoppers type it: forgiving their typos, every answer ranked.
//!
//! Each query word is matched against the index's vocabulary (an `fst` map of the
//! folded terms of a language, built from `search_posting` when it changes):
//!
//! - **exactly**, and by its **synonyms** (built in per language, and the shop's);
//! - **as a prefix**, for the last word (search-as-you-type): its one- and two-letter
//!   forms read the prefix rows the index keeps, longer ones expand in the vocabulary;
//! - **with typos**, as Meilisearch and Algolia allow them by default: none under five
//!   letters, one from five (not on the first letter), two from nine; a swap of two
//!   letters is one typo (Levenshtein automata over the vocabulary, `levenshtein_automata`).
//!
//! A hyphenated compound also matches as its parts, and two adjacent words as one
//! (`tee shirt` is `teeshirt`, a synonym of `tshirt`).
//!
//! Every match is ranked, however many there are: fewer typos first, then where the
//! words are (title, brand, category, colours, description), then exact words before
//! prefixes, then in stock in this shop, then popular in this shop, then the catalog's
//! own order. An exact SKU, GTIN or MPN comes before all of them.

mod index;
mod query;
pub mod synonyms;
pub mod tokens;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::OnceLock;

use fst::{IntoStreamer, Streamer};
use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};
use rusqlite::{Connection, OptionalExtension, params};

pub use index::{DESCRIPTION_CHARS, Delta, Doc, Field, bump};
use index::{Postings, decode};
pub(crate) use index::{build, stored_doc};
use synonyms::{Rule, Synonyms};

/// Most vocabulary terms a prefix of three letters or more expands to (the most
/// frequent are kept).
const MAX_PREFIX_TERMS: usize = 200;
/// Most terms a word's typos expand to (the closest, then the most frequent).
const MAX_TYPO_TERMS: usize = 50;
/// The index's format: a catalog indexed under another is indexed again at its first
/// search (a changed tokenizer would leave old terms behind).
pub const INDEX_VERSION: &str = "v1";
/// Decoded posting lists kept between keystrokes.
const CACHED_POSTINGS: usize = 4096;

/// How well a document matches, compared as a number: typos, then the fields the words
/// are in, then words matched only as a prefix (each summed over the query's words).
/// Fields before exactness, as Meilisearch orders them: `rob` is the robes' titles
/// before a description's "rob".
type Class = u32;

fn class(typos: u32, prefix: bool, field: Field) -> Class {
    (typos << 16) | ((field as u32) << 8) | u32::from(prefix)
}

/// Matching product ids in increasing order, each with how well it matches.
type Hits = Vec<(u32, Class)>;

/// Each id once, with its best class.
fn merge_best(mut lists: Vec<Hits>) -> Hits {
    // Usually all but one are empty (a word's synonyms, its typos): no sort then.
    lists.retain(|l| !l.is_empty());
    match lists.len() {
        0 => return Vec::new(),
        1 => return lists.pop().unwrap_or_default(),
        _ => {}
    }
    let mut all: Hits = lists.concat();
    all.sort_unstable();
    all.dedup_by_key(|(id, _)| *id);
    all
}

/// The ids in both, their classes added (every word must match).
fn intersect(a: &Hits, b: &Hits) -> Hits {
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().min(b.len())));
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn classed(postings: &Postings, typos: u32, prefix: bool) -> Hits {
    postings
        .iter()
        .map(|&(id, field)| (id, class(typos, prefix, field)))
        .collect()
}

fn builders() -> &'static [LevenshteinAutomatonBuilder; 2] {
    static BUILDERS: OnceLock<[LevenshteinAutomatonBuilder; 2]> = OnceLock::new();
    BUILDERS.get_or_init(|| {
        [
            LevenshteinAutomatonBuilder::new(1, true),
            LevenshteinAutomatonBuilder::new(2, true),
        ]
    })
}

/// What the caches were filled from, read from `catalog_meta` once per query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Versions {
    index: i64,
    vocabulary: i64,
    stock: i64,
    synonyms: i64,
    popular: i64,
}

/// A connection's search state, kept between keystrokes and dropped when the catalog
/// changes (another connection's writes included: the versions live in the file).
#[derive(Default)]
pub struct Cache {
    seen: Versions,
    vocabulary: HashMap<String, Arc<fst::Map<Vec<u8>>>>,
    postings: HashMap<(String, String), Arc<Postings>>,
    stock: Option<(String, String, Arc<Vec<u64>>)>,
    synonyms: HashMap<String, Arc<Synonyms>>,
    /// The last query's ranking: a results screen asks for its cards, their count and
    /// their facets with the same text, and ranks once.
    last_ranking: Option<(LastQuery, Vec<Key>)>,
}

/// `(lang, text, rank_store)` of a ranking.
type LastQuery = (String, String, Option<String>);

/// A match's sort key: `(class, out of stock here, -popularity, id)`.
type Key = (Class, bool, i64, u32);

/// The search side of a catalog connection.
pub struct Searcher<'c> {
    pub conn: &'c Connection,
    pub cache: &'c RefCell<Cache>,
    /// The file keeps the shop's popularity (a kiosk's does).
    pub has_popular: bool,
}

/// The ranked matches of a query's text.
pub struct Ranked {
    /// Unsorted.
    keys: Vec<Key>,
}

impl Ranked {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The best `n` ids, best first.
    pub fn top(mut self, n: usize) -> Vec<u32> {
        if n == 0 || self.keys.is_empty() {
            return Vec::new();
        }
        if self.keys.len() > n {
            self.keys.select_nth_unstable(n - 1);
            self.keys.truncate(n);
        }
        self.keys.sort_unstable();
        self.keys.into_iter().map(|k| k.3).collect()
    }

    /// Puts `id` before every other match (an exact code), matched or not.
    pub fn put_first(&mut self, id: u32) {
        self.keys.retain(|k| k.3 != id);
        self.keys.push((0, false, i64::MIN, id));
    }

    /// Keeps the ids `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.keys.retain(|k| keep(k.3));
    }

    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.iter().map(|k| k.3)
    }
}

impl Searcher<'_> {
    /// The product ids whose text matches `text` in `lang`, ranked; `rank_store` is the
    /// shop whose stock comes first. `None` when the text has no word to search.
    pub fn rank(&self, lang: &str, text: &str, rank_store: Option<&str>) -> rusqlite::Result<Option<Ranked>> {
        let text: String = text.chars().take(super::MAX_QUERY_CHARS).collect();
        let words = tokens::words(&text, super::MAX_QUERY_WORDS);
        if words.is_empty() {
            return Ok(None);
        }
        self.refresh()?;
        let asked: LastQuery = (lang.to_owned(), text.clone(), rank_store.map(str::to_owned));
        if let Some((query, keys)) = &self.cache.borrow().last_ranking
            && *query == asked
        {
            return Ok(Some(Ranked { keys: keys.clone() }));
        }
        let ends_word = text.ends_with(|c: char| !c.is_alphanumeric());
        let last = words.len() - 1;
        let vocabulary = self.vocabulary(lang)?;
        let synonyms = self.synonyms(lang)?;

        // Each word, and each pair of adjacent words read as one (`tee shirt`).
        let mut single = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let prefix = i == last && !ends_word;
            let mut alternatives = vec![self.word(lang, &vocabulary, &word.joined(), prefix)?];
            if word.parts.len() > 1 {
                let mut parts: Option<Hits> = None;
                for (j, part) in word.parts.iter().enumerate() {
                    let hits = self.word(lang, &vocabulary, part, prefix && j + 1 == word.parts.len())?;
                    parts = Some(match parts {
                        None => hits,
                        Some(before) => intersect(&before, &hits),
                    });
                }
                alternatives.extend(parts);
            }
            alternatives.push(self.synonyms_of(lang, &synonyms, &word.joined())?);
            single.push(merge_best(alternatives));
        }
        // Runs of two and three adjacent words read as one (`tee shirt`, `sac a main`),
        // when the vocabulary or a synonym knows them.
        let mut spans: Vec<Vec<Option<Hits>>> = vec![Vec::new(); 4];
        for len in 2..=3 {
            for i in 0..words.len().saturating_sub(len - 1) {
                let joined: String = words[i..i + len].iter().map(tokens::Word::joined).collect();
                spans[len].push(if vocabulary.contains_key(&joined) || synonyms.has(&joined) {
                    let prefix = i + len - 1 == last && !ends_word;
                    let exact = self.word(lang, &vocabulary, &joined, prefix)?;
                    Some(merge_best(vec![exact, self.synonyms_of(lang, &synonyms, &joined)?]))
                } else {
                    None
                });
            }
        }
        // best[j]: the documents matching the first j words, each word read alone or
        // in a run with its neighbours; best[0] is every document.
        let and = |before: &Option<Hits>, hits: &Hits| match before {
            None => hits.clone(),
            Some(before) => intersect(before, hits),
        };
        let mut best: Vec<Option<Hits>> = vec![None; words.len() + 1];
        for j in 1..=words.len() {
            let mut options = vec![and(&best[j - 1], &single[j - 1])];
            for len in 2..=3 {
                if j >= len
                    && let Some(Some(span)) = spans[len].get(j - len)
                {
                    options.push(and(&best[j - len], span));
                }
            }
            best[j] = Some(merge_best(options));
        }
        let hits = best.pop().flatten().unwrap_or_default();

        let stock = match rank_store {
            Some(store) => Some(self.stock(lang, store)?),
            None => None,
        };
        let popular = self.popularity(lang)?;
        let keys = hits
            .into_iter()
            .map(|(id, class)| {
                let in_stock = stock
                    .as_ref()
                    .is_some_and(|bits| bits.get(id as usize / 64).is_some_and(|w| w & (1 << (id % 64)) != 0));
                let score = match popular.binary_search_by_key(&id, |(id, _)| *id) {
                    Ok(i) => popular[i].1,
                    Err(_) => 0,
                };
                (class, stock.is_some() && !in_stock, -score, id)
            })
            .collect();
        let ranked = Ranked { keys };
        self.cache.borrow_mut().last_ranking = Some((asked, ranked.keys.clone()));
        Ok(Some(ranked))
    }

    /// Fills what the first query of `lang` ranked for `store` would read.
    pub fn warm(&self, lang: &str, store: &str) -> rusqlite::Result<()> {
        self.refresh()?;
        self.vocabulary(lang)?;
        self.synonyms(lang)?;
        self.stock(lang, store)?;
        Ok(())
    }

    /// The documents one word matches: exactly, as a prefix when it is being typed, and
    /// with typos.
    fn word(&self, lang: &str, vocabulary: &fst::Map<Vec<u8>>, word: &str, prefix: bool) -> rusqlite::Result<Hits> {
        let mut lists = Vec::new();
        if let Some(p) = self.postings(lang, word)? {
            lists.push(classed(&p, 0, false));
        }
        if prefix {
            if word.len() <= 2 {
                if let Some(p) = self.postings(lang, &format!("{word}*"))? {
                    lists.push(classed(&p, 0, true));
                }
            } else {
                for term in prefixed(vocabulary, word) {
                    if let Some(p) = self.postings(lang, &term)? {
                        lists.push(classed(&p, 0, true));
                    }
                }
            }
        }
        for (term, typos, only_prefix) in typo_terms(vocabulary, word, prefix) {
            if let Some(p) = self.postings(lang, &term)? {
                lists.push(classed(&p, typos, only_prefix));
            }
        }
        Ok(merge_best(lists))
    }

    /// The documents that match another way of writing `joined`, each exactly.
    fn synonyms_of(&self, lang: &str, synonyms: &Synonyms, joined: &str) -> rusqlite::Result<Hits> {
        let mut lists = Vec::new();
        for entry in synonyms.of(joined) {
            let mut all: Option<Hits> = None;
            for word in entry {
                let hits = self
                    .postings(lang, word)?
                    .map_or_else(Vec::new, |p| classed(&p, 0, false));
                all = Some(match all {
                    None => hits,
                    Some(before) => intersect(&before, &hits),
                });
            }
            lists.extend(all);
        }
        Ok(merge_best(lists))
    }

    /// Drops what the file's changes made stale.
    fn refresh(&self) -> rusqlite::Result<()> {
        let mut versions = Versions::default();
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, CAST(value AS INTEGER) FROM catalog_meta
             WHERE key IN ('search_version', 'search_vocabulary', 'stock_version', 'search_synonyms',
                           'popular_version')",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let value: i64 = row.get(1)?;
            match row.get_ref(0)?.as_str().unwrap_or_default() {
                "search_version" => versions.index = value,
                "search_vocabulary" => versions.vocabulary = value,
                "stock_version" => versions.stock = value,
                "popular_version" => versions.popular = value,
                "search_synonyms" => versions.synonyms = value,
                _ => {}
            }
        }
        let mut cache = self.cache.borrow_mut();
        if cache.seen != versions {
            cache.last_ranking = None;
        }
        if cache.seen.index != versions.index {
            cache.postings.clear();
            cache.stock = None;
        }
        if cache.seen.vocabulary != versions.vocabulary {
            cache.vocabulary.clear();
        }
        if cache.seen.stock != versions.stock {
            cache.stock = None;
        }
        if cache.seen.synonyms != versions.synonyms {
            cache.synonyms.clear();
        }
        cache.seen = versions;
        if cache.postings.len() > CACHED_POSTINGS {
            cache.postings.clear();
        }
        Ok(())
    }

    fn postings(&self, lang: &str, term: &str) -> rusqlite::Result<Option<Arc<Postings>>> {
        let key = (lang.to_owned(), term.to_owned());
        if let Some(hit) = self.cache.borrow().postings.get(&key) {
            return Ok(Some(hit.clone()));
        }
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT postings FROM search_posting WHERE lang = ?1 AND term = ?2")?
            .query_row(params![lang, term], |r| r.get(0))
            .optional()?;
        let Some(bytes) = bytes else { return Ok(None) };
        let mut postings = Postings::new();
        decode(&bytes, &mut postings);
        let postings = Arc::new(postings);
        self.cache.borrow_mut().postings.insert(key, postings.clone());
        Ok(Some(postings))
    }

    /// The language's terms (prefix rows left out), each with its posting list's size.
    fn vocabulary(&self, lang: &str) -> rusqlite::Result<Arc<fst::Map<Vec<u8>>>> {
        if let Some(hit) = self.cache.borrow().vocabulary.get(lang) {
            return Ok(hit.clone());
        }
        let mut builder = fst::MapBuilder::memory();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT term, length(postings) FROM search_posting WHERE lang = ?1 ORDER BY term")?;
        let mut rows = stmt.query([lang])?;
        while let Some(row) = rows.next()? {
            let term = row.get_ref(0)?.as_str().unwrap_or_default();
            if term.ends_with('*') {
                continue;
            }
            // Terms come in the key's (binary) order, as the builder needs them.
            let _ = builder.insert(term, row.get::<_, i64>(1)?.max(0) as u64);
        }
        let map = Arc::new(builder.into_map());
        self.cache.borrow_mut().vocabulary.insert(lang.to_owned(), map.clone());
        Ok(map)
    }

    fn synonyms(&self, lang: &str) -> rusqlite::Result<Arc<Synonyms>> {
        if let Some(hit) = self.cache.borrow().synonyms.get(lang) {
            return Ok(hit.clone());
        }
        let rules: Vec<Rule> = self
            .conn
            .prepare_cached("SELECT rule FROM search_synonym ORDER BY position")?
            .query_map([], |r| r.get::<_, String>(0))?
            .filter_map(|text| text.ok().and_then(|t| Rule::parse(&t).ok()))
            .collect();
        let synonyms = Arc::new(Synonyms::for_lang(lang, &rules));
        self.cache
            .borrow_mut()
            .synonyms
            .insert(lang.to_owned(), synonyms.clone());
        Ok(synonyms)
    }

    /// The product ids of `lang` with a variant available in `store`, as a bit set.
    fn stock(&self, lang: &str, store: &str) -> rusqlite::Result<Arc<Vec<u64>>> {
        if let Some((l, s, bits)) = &self.cache.borrow().stock
            && l == lang
            && s == store
        {
            return Ok(bits.clone());
        }
        let mut bits: Vec<u64> = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            // Not DISTINCT: a bit set twice costs nothing, deduplicating 500k rows does.
            "SELECT p.id FROM stock s
             JOIN variant v INDEXED BY variant_by_sku ON v.lang = ?1 AND v.sku = s.sku
             JOIN product p ON p.lang = v.lang AND p.group_id = v.group_id
             WHERE s.store_code = ?2 AND s.availability IN ('in_stock', 'limited_availability')
               AND (s.quantity IS NULL OR s.quantity > 0)",
        )?;
        let mut rows = stmt.query(params![lang, store])?;
        while let Some(row) = rows.next()? {
            let id = row.get::<_, i64>(0)?.clamp(0, i64::from(u32::MAX)) as usize;
            if bits.len() <= id / 64 {
                bits.resize(id / 64 + 1, 0);
            }
            bits[id / 64] |= 1 << (id % 64);
        }
        let bits = Arc::new(bits);
        self.cache.borrow_mut().stock = Some((lang.to_owned(), store.to_owned(), bits.clone()));
        Ok(bits)
    }

    /// The shop's popularity of `lang`'s products, by id (a hub's file has none). A few
    /// dozen at most: looked up by binary search for every match.
    fn popularity(&self, lang: &str) -> rusqlite::Result<Vec<(u32, i64)>> {
        if !self.has_popular {
            return Ok(Vec::new());
        }
        let mut scores: Vec<(u32, i64)> = self
            .conn
            .prepare_cached(
                "SELECT p.id, pop.score FROM popular pop JOIN product p ON p.lang = ?1 AND p.group_id = pop.group_id",
            )?
            .query_map([lang], |r| Ok((r.get::<_, i64>(0)? as u32, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        scores.sort_unstable();
        Ok(scores)
    }
}

/// Terms that start with `prefix` (not itself), the most frequent kept.
fn prefixed(vocabulary: &fst::Map<Vec<u8>>, prefix: &str) -> Vec<String> {
    let mut upper = prefix.as_bytes().to_vec();
    if let Some(last) = upper.last_mut() {
        *last = last.saturating_add(1);
    }
    let mut stream = vocabulary.range().gt(prefix).lt(&upper).into_stream();
    let mut found: Vec<(u64, String)> = Vec::new();
    while let Some((term, weight)) = stream.next() {
        found.push((weight, String::from_utf8_lossy(term).into_owned()));
    }
    if found.len() > MAX_PREFIX_TERMS {
        found.select_nth_unstable_by(MAX_PREFIX_TERMS - 1, |a, b| b.0.cmp(&a.0));
        found.truncate(MAX_PREFIX_TERMS);
    }
    found.into_iter().map(|(_, term)| term).collect()
}

/// Terms within the typos a word of its length allows, with how many; a changed first
/// letter counts as two, so words under nine letters never get one.
/// Each with its typos and whether it matched only as a prefix (`chemsie` is `chemise`
/// whole, `chemisier` only begun).
fn typo_terms(vocabulary: &fst::Map<Vec<u8>>, word: &str, prefix: bool) -> Vec<(String, u32, bool)> {
    let letters = word.len();
    if letters < 5 || word.bytes().any(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let max = if letters >= 9 { 2u8 } else { 1 };
    let builder = &builders()[usize::from(max - 1)];
    let whole = builder.build_dfa(word);
    let dfa = if prefix {
        builder.build_prefix_dfa(word)
    } else {
        builder.build_dfa(word)
    };
    let mut stream = vocabulary.search(&dfa).into_stream();
    let mut found: Vec<(u32, bool, u64, String)> = Vec::new();
    while let Some((term, weight)) = stream.next() {
        let mut state = dfa.initial_state();
        for &b in term {
            state = dfa.transition(state, b);
        }
        let Distance::Exact(typos) = dfa.distance(state) else {
            continue;
        };
        let first_changed = term.first() != word.as_bytes().first();
        let typos = u32::from(typos) + u32::from(first_changed);
        if typos == 0 || typos > u32::from(max) {
            continue;
        }
        let only_prefix = prefix
            && !matches!(whole.eval(term), Distance::Exact(d) if u32::from(d) + u32::from(first_changed) == typos);
        found.push((
            typos,
            only_prefix,
            u64::MAX - weight,
            String::from_utf8_lossy(term).into_owned(),
        ));
    }
    found.sort_unstable();
    found.truncate(MAX_TYPO_TERMS);
    found
        .into_iter()
        .map(|(typos, only_prefix, _, term)| (term, typos, only_prefix))
        .collect()
}

/// Replaces the shop's synonym rules; the reason for the first that is not one.
pub fn set_synonyms(conn: &mut Connection, rules: &[String]) -> Result<(), String> {
    if rules.len() > synonyms::MAX_RULES {
        return Err(format!("at most {} synonym rules", synonyms::MAX_RULES));
    }
    for rule in rules {
        Rule::parse(rule)?;
    }
    // Every pull brings the rules: unchanged, they keep the caches warm.
    let stored: Vec<String> = conn
        .prepare_cached("SELECT rule FROM search_synonym ORDER BY position")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("cannot read the synonyms: {e}"))?;
    if stored.iter().map(String::as_str).eq(rules.iter().map(|r| r.trim())) {
        return Ok(());
    }
    let mut write = || -> crate::db::Result<()> {
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM search_synonym", [])?;
        for (position, rule) in rules.iter().enumerate() {
            tx.execute(
                "INSERT INTO search_synonym (position, rule) VALUES (?1, ?2)",
                params![position as i64, rule.trim()],
            )?;
        }
        bump(&tx, "search_synonyms")?;
        Ok(tx.commit()?)
    };
    write().map_err(|e| format!("cannot save the synonyms: {e}"))
}
