//! Search with typos, measured: queries typed from the generated titles with the slips a
//! touch keyboard makes (a missing, doubled or swapped letter, a neighbouring key),
//! their recall@5 and latency, and the same beside tantivy's fuzzy queries on the same
//! documents when the `bench-tantivy` feature is on.
//!
//! A query's relevant products are those whose title has every word it was typed from
//! (the last one as a prefix); recall@5 is the share of the first five answers (or of
//! all relevant, when fewer) that are relevant, averaged over the queries.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use jiff::Timestamp;

use super::{Rng, percentiles};
use crate::catalog::search::tokens;
use crate::catalog::{Catalog, Query};

/// A query as typed, and the product groups it is looking for.
pub struct TypoQuery {
    pub text: String,
    pub relevant: HashSet<String>,
}

/// Keys next to each other on AZERTY and QWERTY keyboards, for slips of the finger.
const NEIGHBOURS: &[(u8, &str)] = &[
    (b'a', "qzsw"),
    (b'b', "vn"),
    (b'c', "xv"),
    (b'd', "sf"),
    (b'e', "rz"),
    (b'f', "dg"),
    (b'g', "fh"),
    (b'h', "gj"),
    (b'i', "uo"),
    (b'j', "hk"),
    (b'k', "jl"),
    (b'l', "km"),
    (b'm', "ln"),
    (b'n', "bm"),
    (b'o', "ip"),
    (b'p', "o"),
    (b'q', "as"),
    (b'r', "et"),
    (b's', "ad"),
    (b't', "ry"),
    (b'u', "yi"),
    (b'v', "cb"),
    (b'w', "xq"),
    (b'x', "wc"),
    (b'y', "tu"),
    (b'z', "ae"),
];

/// One slip, never on the first letter: a neighbouring key, a missing, doubled or swapped letter.
fn slip(word: &str, rng: &mut Rng) -> String {
    let mut bytes = word.as_bytes().to_vec();
    let at = 1 + rng.below(bytes.len() - 1);
    match rng.below(4) {
        0 => {
            let near = NEIGHBOURS
                .iter()
                .find(|(k, _)| *k == bytes[at])
                .map_or("e", |(_, n)| n)
                .as_bytes();
            bytes[at] = near[rng.below(near.len())];
        }
        1 => {
            bytes.remove(at);
        }
        2 => bytes.insert(at, bytes[at]),
        _ if at + 1 < bytes.len() => bytes.swap(at, at + 1),
        _ => bytes.swap(at - 1, at),
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `count` queries from `titles` (`(group id, title)`), each word of five letters or
/// more with one slip (two from nine letters, half the time), the last word cut to a
/// prefix half the time.
pub fn typo_queries(titles: &[(String, String)], count: usize) -> Vec<TypoQuery> {
    // Folded title word → the groups whose title has it.
    let mut words: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let folded: Vec<Vec<String>> = titles
        .iter()
        .map(|(_, title)| tokens::words(title, 16).iter().map(tokens::Word::joined).collect())
        .collect();
    for (i, title) in folded.iter().enumerate() {
        for word in title {
            words.entry(word.clone()).or_default().push(i);
        }
    }
    let mut rng = Rng(2026);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let title = &folded[rng.below(folded.len())];
        if title.is_empty() {
            continue;
        }
        let take = 1 + rng.below(title.len().min(3));
        let start = rng.below(title.len() - take + 1);
        let mut intended: Vec<String> = title[start..start + take].to_vec();
        if let Some(last) = intended.last_mut()
            && last.len() > 3
            && rng.below(2) == 0
        {
            last.truncate(3 + rng.below(last.len() - 3));
        }
        let typed: Vec<String> = intended
            .iter()
            .map(|w| {
                let mut w = w.clone();
                if w.len() >= 5 && !w.bytes().any(|b| b.is_ascii_digit()) {
                    w = slip(&w, &mut rng);
                    if w.len() >= 9 && rng.below(2) == 0 {
                        w = slip(&w, &mut rng);
                    }
                }
                w
            })
            .collect();
        // The groups whose title has every intended word, the last as a prefix.
        let mut relevant: Option<HashSet<usize>> = None;
        for (i, word) in intended.iter().enumerate() {
            let groups: HashSet<usize> = if i + 1 == intended.len() {
                words
                    .range(word.clone()..)
                    .take_while(|(w, _)| w.starts_with(word.as_str()))
                    .flat_map(|(_, g)| g.iter().copied())
                    .collect()
            } else {
                words.get(word).into_iter().flatten().copied().collect()
            };
            relevant = Some(match relevant {
                None => groups,
                Some(before) => before.intersection(&groups).copied().collect(),
            });
        }
        let relevant: HashSet<String> = relevant
            .unwrap_or_default()
            .into_iter()
            .map(|i| titles[i].0.clone())
            .collect();
        if !relevant.is_empty() {
            out.push(TypoQuery {
                text: typed.join(" "),
                relevant,
            });
        }
    }
    out
}

/// recall@5 of one answer.
fn recall(answer: &[String], relevant: &HashSet<String>) -> f64 {
    let found = answer.iter().take(5).filter(|g| relevant.contains(*g)).count();
    found as f64 / relevant.len().min(5) as f64
}

/// Our search on the typo queries: `name=value` lines.
pub fn measure(catalog: &Catalog, queries: &[TypoQuery], store: &str, now: Timestamp) -> anyhow::Result<Vec<String>> {
    let mut q = Query::new("fr", now);
    q.rank_store = Some(store.to_owned());
    q.limit = 5;
    let (mut samples, mut recalls) = (Vec::new(), Vec::new());
    for query in queries {
        q.text.clone_from(&query.text);
        let started = Instant::now();
        let cards = catalog.search(&q)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        let groups: Vec<String> = cards.into_iter().map(|c| c.group_id).collect();
        recalls.push(recall(&groups, &query.relevant));
    }
    let (p50, p99) = percentiles(samples);
    Ok(vec![
        format!("typo_queries={}", queries.len()),
        format!("search_typo_p50_ms={p50:.2}"),
        format!("search_typo_p99_ms={p99:.2}"),
        format!(
            "search_typo_recall_at5={:.3}",
            recalls.iter().sum::<f64>() / recalls.len().max(1) as f64
        ),
    ])
}

/// tantivy on the same documents and queries: `name=value` lines.
#[cfg(feature = "bench-tantivy")]
pub fn tantivy(catalog: &Catalog, typing: &[String], queries: &[TypoQuery]) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let engine = engine::Engine::build(&catalog.search_documents("fr")?)?;
    let mut lines = vec![format!("tantivy_index_s={:.1}", started.elapsed().as_secs_f64())];
    let mut samples = Vec::new();
    for text in typing {
        let started = Instant::now();
        engine.search(text, 48)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = percentiles(samples);
    lines.push(format!("tantivy_typing_p50_ms={p50:.2}"));
    lines.push(format!("tantivy_typing_p99_ms={p99:.2}"));
    let (mut samples, mut recalls) = (Vec::new(), Vec::new());
    for query in queries {
        let started = Instant::now();
        let groups = engine.search(&query.text, 5)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        recalls.push(recall(&groups, &query.relevant));
    }
    let (p50, p99) = percentiles(samples);
    lines.push(format!("tantivy_typo_p50_ms={p50:.2}"));
    lines.push(format!("tantivy_typo_p99_ms={p99:.2}"));
    lines.push(format!(
        "tantivy_typo_recall_at5={:.3}",
        recalls.iter().sum::<f64>() / recalls.len().max(1) as f64
    ));
    Ok(lines)
}

#[cfg(not(feature = "bench-tantivy"))]
pub fn tantivy(_: &Catalog, _: &[String], _: &[TypoQuery]) -> anyhow::Result<Vec<String>> {
    Ok(vec!["tantivy=off (build with --features bench-tantivy)".to_owned()])
}

/// tantivy set up as a shop would for search-as-you-type: the same folded words, each
/// field boosted in our order, every query word fuzzy (our typo allowance, a swap as one
/// edit), the last one a fuzzy prefix.
#[cfg(feature = "bench-tantivy")]
mod engine {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
    use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TEXT, Value};
    use tantivy::{Index, IndexReader, TantivyDocument, Term};

    use crate::catalog::search::{Doc, tokens};

    const BOOSTS: [f32; 5] = [5.0, 4.0, 3.0, 2.0, 1.0];

    pub struct Engine {
        reader: IndexReader,
        group: Field,
        fields: [Field; 5],
    }

    fn folded(text: &str) -> String {
        let mut out = Vec::new();
        tokens::index_terms(text, |t| out.push(t));
        out.join(" ")
    }

    impl Engine {
        pub fn build(docs: &[(String, Doc)]) -> anyhow::Result<Engine> {
            let mut schema = Schema::builder();
            let group = schema.add_text_field("group", STRING | STORED);
            let fields =
                ["title", "brand", "category", "colors", "description"].map(|name| schema.add_text_field(name, TEXT));
            let index = Index::create_in_ram(schema.build());
            let mut writer = index.writer::<TantivyDocument>(200_000_000)?;
            for (id, doc) in docs {
                let mut d = TantivyDocument::default();
                d.add_text(group, id);
                let texts = [
                    doc.title.as_str(),
                    doc.brand.as_deref().unwrap_or(""),
                    doc.category.as_deref().unwrap_or(""),
                    doc.colors.as_str(),
                    doc.description.as_str(),
                ];
                for (field, text) in fields.iter().zip(texts) {
                    d.add_text(*field, folded(text));
                }
                writer.add_document(d)?;
            }
            writer.commit()?;
            writer.wait_merging_threads()?;
            let reader = index.reader()?;
            Ok(Engine { reader, group, fields })
        }

        pub fn search(&self, text: &str, n: usize) -> anyhow::Result<Vec<String>> {
            let words = tokens::words(text, crate::catalog::MAX_QUERY_WORDS);
            if words.is_empty() {
                return Ok(Vec::new());
            }
            let last = words.len() - 1;
            let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (i, word) in words.iter().enumerate() {
                let word = word.joined();
                let distance = match word.len() {
                    0..=4 => 0,
                    5..=8 => 1,
                    _ => 2,
                };
                let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (field, boost) in self.fields.iter().zip(BOOSTS) {
                    let term = Term::from_field_text(*field, &word);
                    let exact = TermQuery::new(term.clone(), IndexRecordOption::Basic);
                    should.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), boost * 2.0))));
                    let fuzzy = if i == last {
                        FuzzyTermQuery::new_prefix(term, distance, true)
                    } else if distance > 0 {
                        FuzzyTermQuery::new(term, distance, true)
                    } else {
                        continue;
                    };
                    should.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), boost))));
                }
                must.push((Occur::Must, Box::new(BooleanQuery::new(should))));
            }
            let query = BooleanQuery::new(must);
            let searcher = self.reader.searcher();
            let top = searcher.search(&query, &TopDocs::with_limit(n))?;
            let mut out = Vec::with_capacity(top.len());
            for (_, address) in top {
                let doc: TantivyDocument = searcher.doc(address)?;
                if let Some(id) = doc.get_first(self.group).and_then(|v| v.as_str()) {
                    out.push(id.to_owned());
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_never_touch_the_first_letter_and_queries_know_what_they_seek() {
        let mut rng = Rng(1);
        for _ in 0..200 {
            let slipped = slip("chemise", &mut rng);
            assert!(slipped.starts_with('c') && slipped != "chemise", "{slipped}");
        }
        let titles: Vec<(String, String)> = [
            ("G0", "Chemise lin Kalo"),
            ("G1", "Chemise coton Bel"),
            ("G2", "Robe lin Maro"),
        ]
        .iter()
        .map(|(g, t)| ((*g).to_owned(), (*t).to_owned()))
        .collect();
        let queries = typo_queries(&titles, 30);
        assert_eq!(queries.len(), 30);
        for q in &queries {
            assert!(!q.relevant.is_empty() && !q.text.is_empty());
        }
        assert!((recall(&["G0".into(), "G9".into()], &["G0".to_owned()].into()) - 1.0).abs() < 1e-9);
    }
}
