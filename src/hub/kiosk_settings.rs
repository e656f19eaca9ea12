//! Remote settings (`src/db/hub_v8.sql`): what store ops set for the chain, a shop or one
//! kiosk — idle and warning seconds, the visit's maximum, the starting language, the
//! featured products, the attract screen's campaign line, sign-in with the phone, search
//! synonyms. A kiosk
//! gets them merged (its own over its shop's over the chain's) with its catalog pull, and
//! applies them without a restart.
//!
//! Each setting's value is checked here, once, for every way in (console, CLI).

use jiff::Timestamp;

use super::audit::{self, Actor, Change};
use crate::db::{self, Sql, params};
use crate::protocol::RemoteSettings;

/// Where a setting applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Chain,
    Shop(String),
    Kiosk(i64),
}

impl Target {
    fn key(&self) -> (&'static str, String) {
        match self {
            Target::Chain => ("chain", String::new()),
            Target::Shop(code) => ("shop", code.clone()),
            Target::Kiosk(id) => ("kiosk", id.to_string()),
        }
    }

    /// How the audit log names it.
    fn shown(&self) -> String {
        match self {
            Target::Chain => "chain".to_owned(),
            Target::Shop(code) => format!("shop {code}"),
            Target::Kiosk(id) => format!("kiosk {id}"),
        }
    }
}

/// The settings there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    IdleSeconds,
    WarningSeconds,
    VisitMaxMinutes,
    Language,
    Featured,
    Campaign,
    PhoneSignIn,
    Synonyms,
}

/// Most featured products.
pub const MAX_FEATURED: usize = 24;
/// Longest campaign line.
pub const MAX_CAMPAIGN_CHARS: usize = 80;

impl Name {
    pub const ALL: [Name; 8] = [
        Name::IdleSeconds,
        Name::WarningSeconds,
        Name::VisitMaxMinutes,
        Name::Language,
        Name::Featured,
        Name::Campaign,
        Name::PhoneSignIn,
        Name::Synonyms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Name::IdleSeconds => "idle_seconds",
            Name::WarningSeconds => "warning_seconds",
            Name::VisitMaxMinutes => "visit_max_minutes",
            Name::Language => "language",
            Name::Featured => "featured",
            Name::Campaign => "campaign",
            Name::PhoneSignIn => "phone_sign_in",
            Name::Synonyms => "synonyms",
        }
    }

    pub fn parse(text: &str) -> Option<Name> {
        Name::ALL.into_iter().find(|n| n.as_str() == text)
    }

    /// A value as typed (a number, `fr`, SKUs separated by spaces or commas, a line,
    /// `on`/`off`), checked, as the JSON stored; or why it is refused.
    pub fn value(self, text: &str) -> Result<serde_json::Value, String> {
        let text = text.trim();
        let number = |range: std::ops::RangeInclusive<u32>, unit: &str| {
            text.parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .map(serde_json::Value::from)
                .ok_or_else(|| {
                    format!(
                        "{} is a number of {unit} from {} to {}",
                        self.as_str(),
                        range.start(),
                        range.end()
                    )
                })
        };
        match self {
            Name::IdleSeconds => number(15..=600, "seconds"),
            Name::WarningSeconds => number(5..=120, "seconds"),
            Name::VisitMaxMinutes => number(5..=240, "minutes"),
            Name::Language => match text {
                "fr" | "en" => Ok(text.into()),
                _ => Err("language is fr or en".to_owned()),
            },
            Name::Featured => {
                let ids: Vec<&str> = text
                    .split([',', ' ', '\n', '\r', '\t'])
                    .filter(|s| !s.is_empty())
                    .collect();
                if ids.len() > MAX_FEATURED || !ids.iter().all(|id| crate::protocol::valid_ref(id)) {
                    return Err(format!("featured lists at most {MAX_FEATURED} product ids or SKUs"));
                }
                Ok(ids.into())
            }
            Name::Campaign => {
                let ok =
                    (1..=MAX_CAMPAIGN_CHARS).contains(&text.chars().count()) && !text.chars().any(char::is_control);
                ok.then(|| text.into())
                    .ok_or_else(|| format!("campaign is one line of 1 to {MAX_CAMPAIGN_CHARS} characters"))
            }
            Name::PhoneSignIn => match text {
                "on" | "true" | "yes" => Ok(true.into()),
                "off" | "false" | "no" => Ok(false.into()),
                _ => Err("phone_sign_in is on or off".to_owned()),
            },
            Name::Synonyms => {
                use crate::catalog::search::synonyms::{MAX_RULES, Rule};
                let rules: Vec<&str> = text
                    .split([';', '\n'])
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .collect();
                if rules.len() > MAX_RULES {
                    return Err(format!("synonyms holds at most {MAX_RULES} rules"));
                }
                for rule in &rules {
                    Rule::parse(rule)?;
                }
                Ok(rules.into())
            }
        }
    }
}

/// The next settings version: past every version given.
fn next_version(conn: &dyn Sql) -> db::Result<i64> {
    conn.one(
        "INSERT INTO hub_counter (name, value) VALUES ('settings_version', 1)
         ON CONFLICT (name) DO UPDATE SET value = hub_counter.value + 1 RETURNING value",
        params![],
    )
}

/// Sets (`Some`) or removes (`None`, back to the inherited value) a setting, with its
/// audit line, in one transaction. `value` is as typed; a refused one changes nothing.
pub fn set(
    conn: &dyn Sql,
    actor: &Actor,
    target: &Target,
    name: Name,
    value: Option<&str>,
    now: Timestamp,
) -> db::Result<Result<(), String>> {
    let json = match value.map(|v| name.value(v)).transpose() {
        Ok(json) => json,
        Err(e) => return Ok(Err(e)),
    };
    let (scope, key) = target.key();
    let tx = conn.begin()?;
    match &json {
        Some(json) => tx.execute(
            "INSERT INTO kiosk_setting (scope, target, name, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, target, name) DO UPDATE SET value = excluded.value",
            params![scope, key, name.as_str(), json.to_string()],
        )?,
        None => tx.execute(
            "DELETE FROM kiosk_setting WHERE scope = ?1 AND target = ?2 AND name = ?3",
            params![scope, key, name.as_str()],
        )?,
    };
    let version = next_version(&*tx)?;
    tx.execute(
        "INSERT INTO kiosk_setting_version (scope, target, version) VALUES (?1, ?2, ?3)
         ON CONFLICT (scope, target) DO UPDATE SET version = excluded.version",
        params![scope, key, version],
    )?;
    let shop = match target {
        Target::Shop(code) => Some(code.clone()),
        Target::Kiosk(id) => tx.query_opt("SELECT store_code FROM device WHERE id = ?1", params![id], |r| r.get(0))?,
        Target::Chain => None,
    };
    let detail = match &json {
        Some(json) => format!("{}={json}", name.as_str()),
        None => format!("{} inherited", name.as_str()),
    };
    let change = Change {
        action: "settings.set",
        store: shop.as_deref(),
        target: &target.shown(),
        detail: &detail,
    };
    audit::record(&*tx, actor, change, now)?;
    tx.commit()?;
    Ok(Ok(()))
}

/// The settings set at one target, as stored (JSON), by name.
pub fn at(conn: &dyn Sql, target: &Target) -> db::Result<Vec<(Name, serde_json::Value)>> {
    let (scope, key) = target.key();
    let rows: Vec<(String, String)> = conn.query_map(
        "SELECT name, value FROM kiosk_setting WHERE scope = ?1 AND target = ?2",
        params![scope, key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, value)| Some((Name::parse(&name)?, serde_json::from_str(&value).ok()?)))
        .collect())
}

fn version_of(conn: &dyn Sql, target: &Target) -> db::Result<i64> {
    let (scope, key) = target.key();
    let version: Option<i64> = conn.query_opt(
        "SELECT version FROM kiosk_setting_version WHERE scope = ?1 AND target = ?2",
        params![scope, key],
        |r| r.get(0),
    )?;
    Ok(version.unwrap_or(0))
}

/// What kiosk `device` of shop `store` gets: the chain's, its shop's and its own, each
/// over the one before, and the highest of their versions.
pub fn effective(conn: &dyn Sql, store: &str, device: i64) -> db::Result<RemoteSettings> {
    let targets = [Target::Chain, Target::Shop(store.to_owned()), Target::Kiosk(device)];
    let mut merged = RemoteSettings::default();
    for target in &targets {
        merged.version = merged.version.max(version_of(conn, target)?);
        for (name, value) in at(conn, target)? {
            apply(&mut merged, name, &value);
        }
    }
    Ok(merged)
}

/// Every kiosk's current settings version (what [`effective`] gives it), in one query:
/// the fleet page compares it with what each kiosk reports.
pub fn versions(conn: &dyn Sql) -> db::Result<std::collections::HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = conn.query_map(
        "SELECT d.id, COALESCE(MAX(v.version), 0) FROM device d
         LEFT JOIN kiosk_setting_version v
           ON v.scope = 'chain' OR (v.scope = 'shop' AND v.target = d.store_code)
              OR (v.scope = 'kiosk' AND v.target = CAST(d.id AS TEXT))
         WHERE d.revoked_at IS NULL GROUP BY d.id",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.into_iter().collect())
}

fn apply(settings: &mut RemoteSettings, name: Name, value: &serde_json::Value) {
    let number = || value.as_u64().and_then(|n| u32::try_from(n).ok());
    match name {
        Name::IdleSeconds => settings.idle_seconds = number(),
        Name::WarningSeconds => settings.warning_seconds = number(),
        Name::VisitMaxMinutes => settings.visit_max_minutes = number(),
        Name::Language => settings.language = value.as_str().map(str::to_owned),
        Name::Featured => {
            settings.featured = value
                .as_array()
                .map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
        }
        Name::Campaign => settings.campaign = value.as_str().map(str::to_owned),
        Name::PhoneSignIn => settings.phone_sign_in = value.as_bool(),
        Name::Synonyms => {
            settings.synonyms = value
                .as_array()
                .map(|rules| rules.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
        }
    }
}

/// A setting's value as a person reads and types it.
pub fn shown(name: Name, value: &serde_json::Value) -> String {
    let separator = if name == Name::Synonyms { "; " } else { " " };
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Bool(true) => "on".to_owned(),
        serde_json::Value::Bool(false) => "off".to_owned(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(separator),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kiosks_own_setting_wins_over_its_shops_over_the_chains_and_removal_inherits() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let cli = Actor::Cli;
        let set = |target: &Target, name, value| set(&conn, &cli, target, name, value, now).unwrap();
        assert_eq!(effective(&conn, "PARIS", 7).unwrap(), RemoteSettings::default());
        set(&Target::Chain, Name::IdleSeconds, Some("90")).unwrap();
        set(&Target::Chain, Name::Language, Some("en")).unwrap();
        set(&Target::Shop("PARIS".into()), Name::IdleSeconds, Some("120")).unwrap();
        set(&Target::Kiosk(7), Name::Featured, Some("SKU-1, SKU-2 SKU-3")).unwrap();
        let paris = effective(&conn, "PARIS", 7).unwrap();
        assert_eq!(paris.idle_seconds, Some(120));
        assert_eq!(paris.language.as_deref(), Some("en"));
        assert_eq!(paris.featured, ["SKU-1", "SKU-2", "SKU-3"]);
        assert!(Name::Synonyms.value("gilet").is_err());
        set(
            &Target::Shop("PARIS".into()),
            Name::Synonyms,
            Some("gilet = cardigan; fr: pull = chandail"),
        )
        .unwrap();
        assert_eq!(
            effective(&conn, "PARIS", 7).unwrap().synonyms,
            ["gilet = cardigan", "fr: pull = chandail"]
        );
        let lyon = effective(&conn, "LYON", 8).unwrap();
        assert_eq!(lyon.idle_seconds, Some(90));
        assert!(lyon.featured.is_empty());
        assert!(lyon.version < paris.version, "Lyon did not see Paris's changes");
        let before = paris.version;
        set(&Target::Shop("PARIS".into()), Name::IdleSeconds, None).unwrap();
        let after = effective(&conn, "PARIS", 7).unwrap();
        assert_eq!(after.idle_seconds, Some(90), "back to the chain's");
        assert!(after.version > before, "a removal is a change too");
        assert!(set(&Target::Chain, Name::IdleSeconds, Some("5")).is_err());
        assert!(set(&Target::Chain, Name::Language, Some("de")).is_err());
        assert!(set(&Target::Chain, Name::Campaign, Some(&"x".repeat(81))).is_err());
        assert_eq!(
            effective(&conn, "LYON", 8).unwrap().idle_seconds,
            Some(90),
            "a refused value changes nothing"
        );
    }
}
