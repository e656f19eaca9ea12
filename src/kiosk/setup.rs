//! The first-start screen's decisions, without Slint (the screen itself is
//! [`super::first_start`]): what a scanned or typed text asks to enroll with, which hub
//! that is, and which sentence tells why an enrollment did not happen. Kept apart so
//! that every rule is tested here with plain values, and the screen only shows them.

use crate::hub::store::EnrollError;
use crate::protocol::EnrollLink;

/// The longest code the hub takes (`POST /v1/kiosk/enroll` refuses longer ones with
/// `invalid_field`); the field stops there.
pub const MAX_CODE_CHARS: usize = 64;
/// The longest hub address, as an enrollment link allows (`EnrollLink::parse`).
pub const MAX_HUB_CHARS: usize = 512;

/// An enrollment to try: this code, with this hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub hub_url: String,
    pub code: String,
}

/// Why the kiosk is not enrolled yet, as the screen words it (`SetupProblem` in
/// `ui/views/setup.slint`): what the person setting the tablet up can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A QR code (or typed text) that is not a Vitrine enrollment code.
    NotACode,
    /// Enroll was tapped with no code typed.
    NoCode,
    /// No hub in `kiosk.toml`, and none typed.
    NoHub,
    /// What was typed as the hub is not an http(s) address.
    BadHub,
    /// The hub's refusals of the code (`EnrollError`).
    UnknownCode,
    ExpiredCode,
    UsedCode,
    /// No answer: the network is down, or the address or port is wrong.
    Unreachable,
    /// Something answered, but not as a hub answers.
    NotAHub,
    /// The hub's rate limit on requests without a credential.
    TooManyTries,
    /// The hub refused for a reason of its own (a fault, or it is stopping).
    HubFailed,
    /// The kiosk could not keep its credential (its own disk).
    KioskFailed,
    /// A QR code naming another hub than the one `kiosk.toml` names: a code shown by
    /// someone else's console (or a phone) must not take the kiosk elsewhere.
    OtherHub,
    /// A code for another shop than the one `kiosk.toml` names (still unused).
    OtherShop,
}

/// Which field the on-screen keyboard types into; `None` while it is hidden.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Field {
    #[default]
    None,
    Code,
    Hub,
}

/// The typed fields. The screen's keyboard edits them here, so their limits and
/// spelling are kept in one place whatever the keys send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub code: String,
    pub hub: String,
    pub field: Field,
}

impl Form {
    /// Applies a key to the field being typed in (none: nothing happens). A code is
    /// shown in capitals, as the console shows it (the hub forgives case anyway); each
    /// field stops at its limit.
    pub fn edit(&mut self, edit: impl FnOnce(&mut String)) {
        let is_code = self.field == Field::Code;
        let (text, max) = match self.field {
            Field::None => return,
            Field::Code => (&mut self.code, MAX_CODE_CHARS),
            Field::Hub => (&mut self.hub, MAX_HUB_CHARS),
        };
        edit(text);
        if is_code {
            *text = text.to_uppercase();
        }
        if text.chars().count() > max {
            *text = text.chars().take(max).collect();
        }
    }
}

/// What a code the camera read asks for: an enrollment with the code and hub it names,
/// which must be the hub `kiosk.toml` names when it names one. Anything else in front
/// of the camera is "not an enrollment code".
pub fn scanned(text: &str, configured: Option<&str>) -> Result<Attempt, Problem> {
    let link = EnrollLink::parse(text).ok_or(Problem::NotACode)?;
    Ok(Attempt {
        hub_url: choose_hub(Some(&link.hub_url), "", configured)?,
        code: link.code,
    })
}

/// What the typed fields ask for: the code, with the hub typed, else the one
/// `kiosk.toml` names (`configured`). A whole enrollment link typed in the code field
/// counts as scanned, its own hub first.
pub fn typed(code: &str, hub: &str, configured: Option<&str>) -> Result<Attempt, Problem> {
    let code = code.trim();
    if let Some(link) = EnrollLink::parse(code) {
        return Ok(Attempt {
            hub_url: choose_hub(Some(&link.hub_url), hub, configured)?,
            code: link.code,
        });
    }
    if code.is_empty() {
        return Err(Problem::NoCode);
    }
    let spelled = code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ');
    if !spelled || code.chars().count() > MAX_CODE_CHARS {
        return Err(Problem::NotACode);
    }
    Ok(Attempt {
        hub_url: choose_hub(None, hub, configured)?,
        code: code.to_owned(),
    })
}

/// The hub to enroll with: the QR code's (it is the hub whose console made the code),
/// else the one typed, else the one `kiosk.toml` names. A QR code's hub must be the
/// configured one (same scheme, host and port) when `kiosk.toml` names one.
pub fn choose_hub(scanned: Option<&str>, typed: &str, configured: Option<&str>) -> Result<String, Problem> {
    if let Some(hub) = scanned {
        let origin = |url: &str| reqwest::Url::parse(url).ok().map(|u| u.origin());
        return match configured {
            Some(own) if origin(own) != origin(hub) || origin(hub).is_none() => Err(Problem::OtherHub),
            _ => Ok(hub.to_owned()),
        };
    }
    let typed = typed.trim();
    if !typed.is_empty() {
        return hub_address(typed);
    }
    configured.map(str::to_owned).ok_or(Problem::NoHub)
}

/// A typed hub address as the kiosk will call it: `https://` when no scheme is typed
/// (what a person copies from a browser's address bar often lacks it), an http(s) URL
/// with a host, no trailing `/`.
pub fn hub_address(typed: &str) -> Result<String, Problem> {
    let text = if typed.contains("://") {
        typed.to_owned()
    } else {
        format!("https://{typed}")
    };
    let valid = text.len() <= MAX_HUB_CHARS
        && reqwest::Url::parse(&text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if valid {
        Ok(text.trim_end_matches('/').to_owned())
    } else {
        Err(Problem::BadHub)
    }
}

/// Why `sync::driver::enroll` failed, in the screen's words. A transport error is "cannot
/// reach" (an answer that is not JSON: "not a hub"); the hub's refusals are read from its
/// `Problem`, as `net::read_answer` words it: its code, and for a refused enrollment code
/// the hub's own `EnrollError` message, which says which refusal it is. Anything else
/// happened on the kiosk.
pub fn problem(error: &anyhow::Error) -> Problem {
    if let Some(e) = error.chain().find_map(|e| e.downcast_ref::<reqwest::Error>()) {
        return if e.is_decode() {
            Problem::NotAHub
        } else {
            Problem::Unreachable
        };
    }
    let text = format!("{error:#}");
    if text.contains("invalid_enroll_code") {
        return if text.contains(&EnrollError::Expired.to_string()) {
            Problem::ExpiredCode
        } else if text.contains(&EnrollError::Used.to_string()) {
            Problem::UsedCode
        } else {
            Problem::UnknownCode
        };
    }
    if text.contains("other_shop") {
        return Problem::OtherShop;
    }
    if text.contains("rate_limited") {
        Problem::TooManyTries
    } else if text.contains("invalid_field") {
        Problem::NotACode
    } else if text.starts_with("the hub refused") {
        Problem::HubFailed
    } else if text.starts_with("the hub answered") {
        Problem::NotAHub
    } else {
        Problem::KioskFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "VITRINE-ENROLL:ABCD-EFGH-JKMN@https://hub.example.com";

    #[test]
    fn a_scanned_enrollment_link_enrolls_with_its_own_hub() {
        let expected = Attempt {
            hub_url: "https://hub.example.com".into(),
            code: "ABCD-EFGH-JKMN".into(),
        };
        assert_eq!(scanned(LINK, None), Ok(expected.clone()));
        assert_eq!(scanned(&format!("  {LINK}\n"), None), Ok(expected.clone()));
        // Typed (or pasted) whole, it wins over the other field; never over kiosk.toml's hub.
        assert_eq!(
            typed(LINK, "other.example.com", Some("https://hub.example.com")),
            Ok(expected)
        );
        assert_eq!(
            typed(LINK, "", Some("https://configured.example.com")),
            Err(Problem::OtherHub)
        );
        for other in [
            "ML-DRESS-01-TERRACOTTA-M",
            "https://shop.example.com/p/robe-lina?variant=12",
            "VITRINE-STAFF:12",
            "VITRINE-ENROLL:ABCD@ftp://hub.example.com",
            "VITRINE-ENROLL:AB CD@https://hub.example.com",
            "",
        ] {
            assert_eq!(scanned(other, None), Err(Problem::NotACode), "{other:?}");
        }
    }

    #[test]
    fn the_qr_codes_hub_comes_first_then_the_typed_one_then_kiosk_toml() {
        const CONFIGURED: &str = "https://configured.example.com";
        let configured = Some(CONFIGURED);
        assert_eq!(
            choose_hub(Some("https://qr.example.com"), "typed.example.com", None),
            Ok("https://qr.example.com".into())
        );
        assert_eq!(
            choose_hub(Some("https://configured.example.com/"), "", configured),
            Ok("https://configured.example.com/".into()),
            "the QR code of the kiosk's own hub"
        );
        for other in [
            "https://qr.example.com",
            "http://configured.example.com",
            "https://configured.example.com:8443",
        ] {
            assert_eq!(
                choose_hub(Some(other), "", configured),
                Err(Problem::OtherHub),
                "a QR code never takes a kiosk to another hub than its kiosk.toml names: {other}"
            );
        }
        assert_eq!(
            choose_hub(None, " typed.example.com ", configured),
            Ok("https://typed.example.com".into())
        );
        assert_eq!(choose_hub(None, "  ", configured), Ok(CONFIGURED.into()));
        assert_eq!(choose_hub(None, "", None), Err(Problem::NoHub));
    }

    #[test]
    fn a_typed_hub_address_is_forgiven_its_scheme_and_slash_but_must_be_http() {
        assert_eq!(hub_address("hub.example.com/"), Ok("https://hub.example.com".into()));
        assert_eq!(hub_address("http://10.0.2.2:8080"), Ok("http://10.0.2.2:8080".into()));
        for bad in ["ftp://hub.example.com", "https://", "hub example", &"h".repeat(600)] {
            assert_eq!(hub_address(bad), Err(Problem::BadHub), "{bad:?}");
        }
    }

    #[test]
    fn a_typed_code_needs_a_code_and_a_hub() {
        let configured = Some("https://hub.example.com");
        assert_eq!(
            typed(" abcd-efgh-jkmn ", "", configured),
            Ok(Attempt {
                hub_url: "https://hub.example.com".into(),
                code: "abcd-efgh-jkmn".into(),
            })
        );
        assert_eq!(typed("  ", "", configured), Err(Problem::NoCode));
        assert_eq!(typed("ABCD/EFGH", "", configured), Err(Problem::NotACode));
        assert_eq!(typed(&"A".repeat(65), "", configured), Err(Problem::NotACode));
        assert_eq!(typed("ABCD-EFGH-JKMN", "", None), Err(Problem::NoHub));
        assert_eq!(typed("ABCD-EFGH-JKMN", "not a url", None), Err(Problem::BadHub));
    }

    #[test]
    fn keys_edit_the_field_being_typed_in_within_its_limit() {
        let mut form = Form::default();
        form.edit(|t| t.push('a'));
        assert_eq!(form, Form::default(), "no field, no typing");
        form.field = Field::Code;
        form.edit(|t| t.push_str("abcd-"));
        assert_eq!(form.code, "ABCD-", "a code is shown in capitals");
        form.edit(|t| t.push_str(&"x".repeat(100)));
        assert_eq!(form.code.chars().count(), MAX_CODE_CHARS);
        form.field = Field::Hub;
        form.edit(|t| t.push_str("hub.example.com"));
        form.edit(|t| {
            t.pop();
        });
        assert_eq!(form.hub, "hub.example.co", "an address keeps its case");
        form.edit(String::clear);
        assert_eq!((form.hub.as_str(), form.code.len()), ("", MAX_CODE_CHARS));
    }

    /// The hub's answers as `net::read_answer` words them, with `EnrollError`'s messages.
    #[test]
    fn each_refusal_of_the_hub_has_its_own_sentence() {
        let refused = |code: &str, message: &str| anyhow::anyhow!("the hub refused (403 Forbidden, {code}): {message}");
        let cases = [
            (
                refused("invalid_enroll_code", &EnrollError::Unknown.to_string()),
                Problem::UnknownCode,
            ),
            (
                refused("invalid_enroll_code", &EnrollError::Expired.to_string()),
                Problem::ExpiredCode,
            ),
            (
                refused("invalid_enroll_code", &EnrollError::Used.to_string()),
                Problem::UsedCode,
            ),
            (refused("rate_limited", "slow down"), Problem::TooManyTries),
            (
                refused("invalid_field", "code is at most 64 characters"),
                Problem::NotACode,
            ),
            (refused("unavailable", "the hub is stopping"), Problem::HubFailed),
            (anyhow::anyhow!("the hub answered 404 Not Found"), Problem::NotAHub),
            (anyhow::anyhow!("database is locked"), Problem::KioskFailed),
        ];
        for (error, expected) in cases {
            assert_eq!(problem(&error), expected, "{error:#}");
        }
    }
}
