//! Rate limits: routes without a credential count per address, the rest per credential;
//! a client over its limit gets 429 with `Retry-After` and a `rate_limited` Problem, and
//! the others go on. Real hub, real HTTP on loopback (every request here comes from
//! 127.0.0.1).

use reqwest::Method;
use serde_json::{Value, json};
use vitrine::hub;
use vitrine::hub::config::RateLimits;

use crate::world::World;

/// `method path` on the hub, with `token` and a JSON `body`: the status, the
/// `Retry-After` seconds and the JSON body (Null if none).
fn send(
    world: &World,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Option<u32>, Value) {
    world.rt.block_on(async {
        let mut request = world.http.request(method, format!("{}{path}", world.hub.url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok());
        let text = response.text().await.unwrap();
        (status, retry_after, serde_json::from_str(&text).unwrap_or(Value::Null))
    })
}

/// A 429 as every client gets it: the Problem's code, and when to come back.
fn assert_limited(retry_after: Option<u32>, body: &Value) {
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(
        retry_after.is_some_and(|seconds| seconds >= 1),
        "Retry-After: {retry_after:?}"
    );
}

fn enroll_guess(world: &World) -> (u16, Option<u32>, Value) {
    let guess = json!({ "code": "AAAA-BBBB-CCCC" });
    send(world, Method::POST, "/v1/kiosk/enroll", None, Some(guess))
}

#[test]
fn guessing_enrollment_codes_is_cut_short_and_kiosks_go_on() {
    let world = World::new();
    let kiosk = world.kiosk("tablet").token();
    let settings = || send(&world, Method::GET, "/v1/kiosk/settings", Some(&kiosk), None);
    let mut refused = 0;
    let mut limited = 0;
    for attempt in 0..50 {
        let (status, retry_after, body) = enroll_guess(&world);
        match status {
            403 => {
                assert_eq!(body["code"], "invalid_enroll_code", "{body}");
                refused += 1;
            }
            429 => {
                assert_limited(retry_after, &body);
                limited += 1;
                // The shop's kiosks, with their credential, are not held back meanwhile.
                let (status, _, body) = settings();
                assert_eq!(status, 200, "{body}");
            }
            other => panic!("guess {attempt}: {other} {body}"),
        }
        if attempt == 0 {
            assert_eq!(status, 403, "the first guess reaches the hub");
        }
    }
    assert!(limited > 0, "50 guesses in a row and none refused ({refused} answered)");
    assert!(
        refused >= 9,
        "the burst of 10 (one used by the kiosk) was not honoured: {refused}"
    );
}

#[test]
fn one_credential_over_its_limit_does_not_hold_back_another() {
    let world = World::with_config(hub::Config {
        limits: RateLimits {
            credential_per_second: 1,
            credential_burst: 5,
            ..RateLimits::default()
        },
        ..hub::Config::default()
    });
    let (busy, quiet) = (world.kiosk("tablet-1").token(), world.kiosk("tablet-2").token());
    let answers: Vec<(u16, Option<u32>, Value)> = (0..20)
        .map(|_| send(&world, Method::GET, "/v1/kiosk/settings", Some(&busy), None))
        .collect();
    assert_eq!(answers[0].0, 200, "{}", answers[0].2);
    let mut limited = 0;
    for (status, retry_after, body) in &answers {
        match status {
            200 => {}
            429 => {
                assert_limited(*retry_after, body);
                limited += 1;
            }
            other => panic!("{other} {body}"),
        }
    }
    assert!(limited > 0, "20 requests against a burst of 5 and none refused");
    let (status, _, body) = send(&world, Method::GET, "/v1/kiosk/settings", Some(&quiet), None);
    assert_eq!(status, 200, "another kiosk is not counted with the busy one: {body}");
    let (status, _, body) = send(&world, Method::GET, "/v1/webstore/visits", Some(&world.key), None);
    assert_eq!(status, 200, "nor the web store: {body}");
}

#[test]
fn liveness_is_never_limited() {
    let world = World::empty_with(hub::Config {
        limits: RateLimits {
            anonymous_per_minute: 1,
            anonymous_burst: 1,
            credential_per_second: 1,
            credential_burst: 1,
        },
        ..hub::Config::default()
    });
    let statuses: Vec<u16> = (0..3).map(|_| enroll_guess(&world).0).collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    for _ in 0..30 {
        let (status, _, body) = send(&world, Method::GET, "/healthz", None, None);
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = send(&world, Method::GET, "/healthz", Some(&world.key), None);
        assert_eq!(status, 200, "{body}");
    }
}

#[test]
fn limits_are_checked_when_the_config_loads() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, text).unwrap();
        hub::Config::load(&file).map_err(|e| format!("{e:#}"))
    };
    let config = load("[limits]\nanonymous_per_minute = 5\ncredential_burst = 20000\n").unwrap();
    assert_eq!(config.limits.anonymous_per_minute, 5);
    assert_eq!(config.limits.credential_burst, 20_000);
    assert_eq!(
        config.limits.credential_per_second,
        RateLimits::default().credential_per_second,
        "what the file leaves out keeps its default"
    );
    let error = load("[limits]\ncredential_burst = 0\n").unwrap_err();
    assert!(
        error.contains("limits.credential_burst must be between 1 and"),
        "{error}"
    );
    let error = load("[limits]\nanonymous_per_minute = 100000\n").unwrap_err();
    assert!(
        error.contains("limits.anonymous_per_minute must be between 1 and 60000"),
        "{error}"
    );
    let error = load("[limits]\nper_minute = 5\n").unwrap_err();
    assert!(error.contains("per_minute"), "{error}");

    let feed = |currency: &str| {
        format!("[[feed]]\nkind = \"products\"\nurl = \"https://s.example/f.csv\"\ncurrency = \"{currency}\"\n")
    };
    assert_eq!(load(&feed("chf")).unwrap().feeds[0].currency.as_deref(), Some("CHF"));
    let error = load(&feed("€")).unwrap_err();
    assert!(
        error.contains("feed https://s.example/f.csv: '€' is not an ISO 4217 currency code"),
        "{error}"
    );
}
