//! Words as search compares them, the same for what is indexed and what is typed:
//! lower case, diacritics and ligatures folded (`Été` is `ete`, `Œuvre` is `oeuvre`),
//! split at anything that is not a letter or a digit.
//!
//! A hyphenated compound is one word and its parts: `T-shirt` is indexed as `t`, `shirt`
//! and `tshirt`, and typed as `tshirt` or as its parts, so `tshirt`, `t-shirt` and
//! `t shirt` meet. An apostrophe splits (`l'été` is `l`, `ete`).

/// Longest term kept; longer words are cut (a pasted URL is not a word).
pub const MAX_TERM_CHARS: usize = 32;

/// A word as written: its folded parts (one unless it is a hyphenated compound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub parts: Vec<String>,
}

impl Word {
    /// The word as one term: its parts joined (`tshirt`).
    pub fn joined(&self) -> String {
        let mut joined: String = self.parts.concat();
        cut(&mut joined);
        joined
    }
}

fn cut(term: &mut String) {
    if term.len() > MAX_TERM_CHARS {
        // Folded terms are ASCII: any byte is a character boundary.
        term.truncate(MAX_TERM_CHARS);
    }
}

/// Appends the folded form of `c` (nothing for a separator).
fn fold_into(c: char, out: &mut String) {
    if c.is_ascii_alphanumeric() {
        out.push(c.to_ascii_lowercase());
    } else if c.is_alphanumeric() {
        for folded in deunicode::deunicode_char(c).unwrap_or("").chars() {
            if folded.is_ascii_alphanumeric() {
                out.push(folded.to_ascii_lowercase());
            }
        }
    }
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

/// The words of a text, at most `max`.
pub fn words(text: &str, max: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut part = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            fold_into(c, &mut part);
            continue;
        }
        // A combining accent (text in NFD: `e` + U+0301) belongs to its letter.
        if is_combining_mark(c) {
            continue;
        }
        let joins = is_hyphen(c) && !part.is_empty() && chars.peek().is_some_and(|n| n.is_alphanumeric());
        if !part.is_empty() {
            cut(&mut part);
            parts.push(std::mem::take(&mut part));
        }
        if !joins && !parts.is_empty() {
            words.push(Word {
                parts: std::mem::take(&mut parts),
            });
            if words.len() == max {
                return words;
            }
        }
    }
    if !part.is_empty() {
        cut(&mut part);
        parts.push(part);
    }
    if !parts.is_empty() && words.len() < max {
        words.push(Word { parts });
    }
    words
}

/// The terms a text is indexed under: each word, and a compound's parts and joined form.
pub fn index_terms(text: &str, mut each: impl FnMut(String)) {
    for word in words(text, usize::MAX) {
        if word.parts.len() > 1 {
            each(word.joined());
        }
        for part in word.parts {
            each(part);
        }
    }
}

/// A text folded as one term (a synonym's entry, a colour), spaces dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        fold_into(c, &mut out);
    }
    cut(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        index_terms(text, |t| out.push(t));
        out
    }

    #[test]
    fn words_fold_case_diacritics_and_ligatures() {
        assert_eq!(
            terms("Robe d'ÉTÉ — Œuvre, Straße"),
            ["robe", "d", "ete", "oeuvre", "strasse"]
        );
        assert_eq!(fold("Crème Brûlée"), "cremebrulee");
        assert_eq!(
            terms("Cre\u{300}me"),
            ["creme"],
            "a decomposed accent stays in its word"
        );
    }

    #[test]
    fn compounds_are_their_parts_and_their_joined_form() {
        assert_eq!(terms("T-shirt col-V"), ["tshirt", "t", "shirt", "colv", "col", "v"]);
        assert_eq!(words("t-shirt - noir", 8).len(), 2, "a lone hyphen separates");
        assert_eq!(
            words("t-", 8),
            [Word {
                parts: vec!["t".into()]
            }]
        );
    }

    #[test]
    fn long_runs_are_cut_and_words_capped() {
        let long = "a".repeat(100);
        assert_eq!(terms(&long), ["a".repeat(MAX_TERM_CHARS)]);
        assert_eq!(words("a b c d e f g h i j", 8).len(), 8);
        assert!(words("  ,;!  ", 8).is_empty());
    }
}
