//! The randomized fault test: a short fixed-seed run of `vitrine bench chaos` (random
//! visits, sign-ins and edits on three kiosks and the web store, with resets, responses
//! cut after the hub committed, delays, silence, and kiosks and the hub restarted), then
//! its invariants: nothing lost, doubled or diverged, nothing of a shopper left.

use vitrine::bench::chaos::{self, Options};

#[test]
fn a_seeded_run_of_faults_and_restarts_loses_doubles_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        seed: 17,
        steps: Some(300),
        duration: None,
        kiosks: 3,
    };
    let report = chaos::run(dir.path(), &options).unwrap();
    assert!(report.ops > 50, "the run made edits: {report:?}");
    assert!(
        report.faults > 5 && report.hub_restarts > 0 && report.kiosk_restarts > 0,
        "{report:?}"
    );
    assert!(report.clean(), "{report:?}");
}
