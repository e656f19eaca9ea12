//! HTTP pieces the hub and its clients share: reading a body with a size cap, reading
//! a hub answer (its `Problem` as the error), a transport error in a few words, and
//! `Retry-After`.
//!
//! The hub uses the capped reader for what it fetches itself (feeds, pictures); the
//! kiosk's and the web store's clients (`client`) use all three.

use anyhow::Context;

use crate::protocol::Problem;

/// Why a response body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// Reads a response body whole, refusing it as soon as it passes `limit` bytes: by its
/// announced length first, then as it arrives.
pub async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a hub answer: the body on success, the hub's `Problem` as the error otherwise.
pub async fn read_answer<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
    let status = response.status();
    if status.is_success() {
        return response.json().await.context("the hub's answer was cut or unreadable");
    }
    match response.json::<Problem>().await {
        Ok(p) => anyhow::bail!("the hub refused ({status}, {}): {}", p.code, p.message),
        Err(_) => anyhow::bail!("the hub answered {status}"),
    }
}

/// `Retry-After` as seconds or as an HTTP date, from `now`.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: jiff::Timestamp) -> Option<jiff::SignedDuration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(jiff::SignedDuration::from_secs(secs.max(0)));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?;
    Some(date.timestamp().duration_since(now).max(jiff::SignedDuration::ZERO))
}

/// A short reason for a transport error, without the URL (it holds no secret, but it
/// is long and the same every time).
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_decode() || e.is_body() {
        "the answer was cut"
    } else {
        "the request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = String::new();
    while let Some(s) = source {
        deepest = s.to_string();
        source = s.source();
    }
    if deepest.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {deepest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now: jiff::Timestamp = "2026-11-14T10:00:00Z".parse().unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(jiff::SignedDuration::from_secs(120)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Sat, 14 Nov 2026 10:05:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(jiff::SignedDuration::from_secs(300)));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
    }
}
