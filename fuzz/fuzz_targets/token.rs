//! The customer-token parser and verifier against any text a QR code could hold: it
//! must answer (a claim or a rejection) and never panic. Seeds: `fuzz/seeds/token`.

#![no_main]

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use jiff::{SignedDuration, Timestamp};
use libfuzzer_sys::fuzz_target;
use vitrine::token::{self, Alias, Claims, TrustedKey, Verifier};

const NOW: i64 = 1_800_000_000;

fn verifier() -> Verifier {
    let now = Timestamp::from_second(NOW).unwrap();
    let key = TrustedKey {
        key: SigningKey::from_bytes(&[7; 32]).verifying_key(),
        not_before: now - SignedDuration::from_hours(24),
        not_after: now + SignedDuration::from_hours(24),
    };
    Verifier::new("vitrine", HashMap::from([(1, key)]))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = Timestamp::from_second(NOW).unwrap();
    let mut verifier = verifier();
    if let Ok(claims) = verifier.verify(text, now) {
        // Only a token our key signed gets through, and only once.
        let again = token::mint(&claims, &SigningKey::from_bytes(&[7; 32])).unwrap();
        assert_eq!(verifier.verify(&again, now), Err(token::Rejection::Replayed));
    }
    // A real token keeps working after whatever came before it.
    let claims = Claims::new(1, Alias::parse("00000000000000ff").unwrap(), "vitrine", now, 5);
    let good = token::mint(&claims, &SigningKey::from_bytes(&[7; 32])).unwrap();
    if good != text {
        assert!(verifier.verify(&good, now).is_ok());
    }
});
