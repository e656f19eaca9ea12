//! The chain's brand (`src/db/hub_v9.sql`): the name, logo, colours, type and welcome
//! words every kiosk shows. Set in the console, or fixed in `hub.toml [brand]` (a hub
//! without the console, or a chain that keeps its brand in configuration): a fixed brand
//! wins, and the console shows it without letting anyone change it.
//!
//! A brand is checked here, once, for every way in ([`Branding::new`]): lengths,
//! languages, colours that keep text readable, a logo that is an SVG or a PNG of at most
//! [`MAX_LOGO_BYTES`]. Kiosks receive it with their settings and fetch the logo by its
//! digest.

use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::protocol::brand::{Brand, BrandError, Logo, LogoFormat, MAX_LOGO_BYTES};

/// A brand with its logo's bytes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// `brand.logo` names the logo below by its digest.
    pub brand: Brand,
    pub logo: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for Branding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Branding")
            .field("brand", &self.brand)
            .field("logo_bytes", &self.logo.as_ref().map(|l| l.len()))
            .finish()
    }
}

/// Why a brand cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrandingError {
    #[error(transparent)]
    Brand(#[from] BrandError),
    #[error(
        "the logo is {0} bytes; at most {MAX_LOGO_BYTES} are accepted (an SVG, or a PNG a few hundred pixels wide)"
    )]
    LogoTooLarge(usize),
    #[error("the logo is neither an SVG nor a PNG file")]
    LogoFormat,
    /// Kiosks draw SVG without fonts: live text would not show.
    #[error("the SVG logo has live text, which kiosks do not draw: convert its text to outlines (paths), or use a PNG")]
    LogoText,
}

impl Branding {
    /// Checks `brand` and the logo's bytes, and names the logo in the brand.
    pub fn new(mut brand: Brand, logo: Option<Vec<u8>>) -> Result<Branding, BrandingError> {
        brand.check()?;
        brand.name = brand.name.trim().to_owned();
        brand.welcome.retain(|_, words| !words.trim().is_empty());
        for words in brand.welcome.values_mut() {
            *words = words.trim().to_owned();
        }
        brand.logo = match &logo {
            None => None,
            Some(bytes) if bytes.len() > MAX_LOGO_BYTES => return Err(BrandingError::LogoTooLarge(bytes.len())),
            Some(bytes) => {
                let format = LogoFormat::sniff(bytes).ok_or(BrandingError::LogoFormat)?;
                if format == LogoFormat::Svg && bytes.windows(5).any(|w| w == b"<text") {
                    return Err(BrandingError::LogoText);
                }
                Some(Logo {
                    format,
                    sha256: hex::encode(Sha256::digest(bytes)),
                })
            }
        };
        Ok(Branding {
            brand,
            logo: logo.map(Arc::from),
        })
    }
}

/// The brand kiosks show: `fixed` (from `hub.toml`) when there is one, else the one set
/// in the console, else none (kiosks keep their own look and show the shop's name).
pub fn current(conn: &Connection, fixed: Option<&Branding>) -> rusqlite::Result<Branding> {
    if let Some(fixed) = fixed {
        return Ok(fixed.clone());
    }
    Ok(saved(conn)?.unwrap_or_default())
}

/// The brand last set in the console, if any.
pub fn saved(conn: &Connection) -> rusqlite::Result<Option<Branding>> {
    conn.query_row("SELECT body, logo FROM brand WHERE id = 1", [], |r| {
        let body: String = r.get(0)?;
        let logo: Option<Vec<u8>> = r.get(1)?;
        Ok((body, logo))
    })
    .optional()
    .map(|row| {
        row.and_then(|(body, logo)| {
            // Written by this module from a checked brand; a newer hub's unreadable one
            // counts as none rather than stopping every kiosk's pull.
            let brand: Brand = serde_json::from_str(&body)
                .inspect_err(|e| tracing::warn!("the saved brand is unreadable: {e}"))
                .ok()?;
            Some(Branding {
                brand,
                logo: logo.map(Arc::from),
            })
        })
    })
}

/// Replaces the console's brand (the caller audits it: [`super::admin::set_brand`]).
pub fn save(conn: &Connection, branding: &Branding, now: Timestamp) -> rusqlite::Result<()> {
    let body = serde_json::to_string(&branding.brand).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    conn.execute(
        "INSERT INTO brand (id, body, logo, updated_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, logo = excluded.logo,
             updated_at = excluded.updated_at",
        params![body, branding.logo.as_deref(), now.as_millisecond()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_are_checked_and_named_by_digest() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>"#.to_vec();
        let made = Branding::new(Brand::default(), Some(svg.clone())).unwrap();
        let logo = made.brand.logo.unwrap();
        assert_eq!(logo.format, LogoFormat::Svg);
        assert_eq!(logo.sha256, hex::encode(Sha256::digest(&svg)));
        assert_eq!(
            Branding::new(Brand::default(), Some(b"GIF89a".to_vec())),
            Err(BrandingError::LogoFormat)
        );
        let lettered = br#"<svg xmlns="http://www.w3.org/2000/svg"><text>DELVAUX</text></svg>"#.to_vec();
        assert_eq!(
            Branding::new(Brand::default(), Some(lettered)),
            Err(BrandingError::LogoText)
        );
        let huge = [b"\x89PNG\r\n\x1a\n".to_vec(), vec![0; MAX_LOGO_BYTES]].concat();
        assert!(matches!(
            Branding::new(Brand::default(), Some(huge)),
            Err(BrandingError::LogoTooLarge(_))
        ));
    }

    #[test]
    fn the_console_brand_is_kept_and_a_fixed_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        assert_eq!(current(&conn, None).unwrap(), Branding::default());
        let mut brand = Brand {
            name: "  Bijouterie Delvaux ".into(),
            accent: Some("#1f4e5f".into()),
            ..Brand::default()
        };
        brand.welcome.insert("en".into(), "   ".into());
        let set = Branding::new(brand, Some(b"\x89PNG\r\n\x1a\nbytes".to_vec())).unwrap();
        assert_eq!(set.brand.name, "Bijouterie Delvaux");
        assert!(set.brand.welcome.is_empty(), "blank lines are no lines");
        save(&conn, &set, Timestamp::now()).unwrap();
        assert_eq!(current(&conn, None).unwrap(), set);
        let fixed = Branding::new(
            Brand {
                name: "Maison Lumen".into(),
                ..Brand::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(current(&conn, Some(&fixed)).unwrap(), fixed);
    }
}
