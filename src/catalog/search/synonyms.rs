//! Words shoppers use for the same thing: a few per language built in, and the shop's
//! own (`Catalog::set_synonyms`). A synonym matches as an exact word, so `tshirt` finds
//! a "Tee shirt" and `tee shirt` a "T-shirt"; a rule's entries may be several words.
//!
//! Rules are written as the console takes them: entries separated by `=`, optionally
//! after a language (`fr: pull = pullover = chandail`); a rule without one holds in
//! every language.

use std::collections::HashMap;

use super::tokens;

/// Built-in rules, by language.
const BUILT_IN: &[(&str, &str)] = &[
    ("fr", "tshirt = tee shirt = teeshirt"),
    ("fr", "sweat = sweatshirt"),
    ("fr", "pull = pullover = chandail"),
    ("fr", "jean = jeans"),
    ("fr", "basket = baskets = sneaker = sneakers"),
    ("fr", "doudoune = puffer"),
    ("fr", "sac a main = sac"),
    ("fr", "lunettes de soleil = solaires"),
    ("en", "tshirt = tee shirt = tee = teeshirt"),
    ("en", "sweatshirt = sweat"),
    ("en", "jumper = sweater = pullover"),
    ("en", "trousers = pants"),
    ("en", "sneakers = trainers"),
    ("en", "hoodie = hoody = hooded sweatshirt"),
];

/// Most rules a shop may add, entries per rule, and characters per rule.
pub const MAX_RULES: usize = 500;
pub const MAX_ENTRIES: usize = 8;
pub const MAX_RULE_CHARS: usize = 200;

/// A rule as a shop writes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `None`: every language.
    pub lang: Option<String>,
    /// Each entry as its folded words.
    pub entries: Vec<Vec<String>>,
}

impl Rule {
    /// Reads `fr: pull = pullover`; the reason when it is not a rule.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let text = text.trim();
        if text.chars().count() > MAX_RULE_CHARS {
            return Err(format!("a synonym rule is at most {MAX_RULE_CHARS} characters"));
        }
        let (lang, body) = match text.split_once(':') {
            Some((lang, body))
                if (2..=3).contains(&lang.trim().len()) && lang.trim().chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                (Some(lang.trim().to_ascii_lowercase()), body)
            }
            _ => (None, text),
        };
        let entries: Vec<Vec<String>> = body
            .split('=')
            .map(|entry| tokens::words(entry, 4).iter().map(|w| w.joined()).collect::<Vec<_>>())
            .filter(|words: &Vec<String>| !words.is_empty())
            .collect();
        if entries.len() < 2 {
            return Err(format!(
                "'{text}' is not a synonym rule: write it like 'pull = pullover'"
            ));
        }
        if entries.len() > MAX_ENTRIES {
            return Err(format!("a synonym rule has at most {MAX_ENTRIES} entries"));
        }
        Ok(Rule { lang, entries })
    }
}

/// The rules of one language, by each entry's joined form.
#[derive(Debug, Default, Clone)]
pub struct Synonyms {
    by_entry: HashMap<String, Vec<Vec<String>>>,
}

impl Synonyms {
    /// The built-in rules of `lang` and the shop's.
    pub fn for_lang(lang: &str, shop: &[Rule]) -> Synonyms {
        let built_in = BUILT_IN
            .iter()
            .filter(|(l, _)| *l == lang)
            .filter_map(|(_, text)| Rule::parse(text).ok());
        let shop = shop
            .iter()
            .filter(|r| r.lang.as_deref().is_none_or(|l| l == lang))
            .cloned();
        let mut synonyms = Synonyms::default();
        for rule in built_in.chain(shop) {
            for entry in &rule.entries {
                let others = rule.entries.iter().filter(|e| *e != entry).cloned();
                synonyms.by_entry.entry(entry.concat()).or_default().extend(others);
            }
        }
        synonyms
    }

    /// What `joined` (one word, or adjacent words run together) may also be written as.
    pub fn of(&self, joined: &str) -> &[Vec<String>] {
        self.by_entry.get(joined).map_or(&[], Vec::as_slice)
    }

    pub fn has(&self, joined: &str) -> bool {
        self.by_entry.contains_key(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_as_the_console_writes_them() {
        let rule = Rule::parse("fr: Pull = pull-over = Chandail en laine").unwrap();
        assert_eq!(rule.lang.as_deref(), Some("fr"));
        assert_eq!(
            rule.entries,
            [
                vec!["pull".to_owned()],
                vec!["pullover".into()],
                vec!["chandail".into(), "en".into(), "laine".into()]
            ]
        );
        assert!(Rule::parse("pull").is_err());
        assert!(Rule::parse(&"a = ".repeat(100)).is_err());
    }

    #[test]
    fn each_entry_finds_the_others_in_its_language() {
        let shop = [
            Rule::parse("gilet = cardigan").unwrap(),
            Rule::parse("en: tote = shopper").unwrap(),
        ];
        let fr = Synonyms::for_lang("fr", &shop);
        assert!(fr.of("tshirt").contains(&vec!["tee".to_owned(), "shirt".to_owned()]));
        assert!(fr.of("teeshirt").contains(&vec!["tshirt".to_owned()]));
        assert_eq!(fr.of("cardigan"), [vec!["gilet".to_owned()]]);
        assert!(fr.of("tote").is_empty());
        assert!(Synonyms::for_lang("en", &shop).has("tote"));
    }
}
