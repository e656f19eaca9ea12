//! The crash test's load (`vitrine internal exercise`): toggles random SKUs on one
//! customer's wishlist, each edit committed before it is reported, and syncs every few
//! edits. The test kills the process at random and checks that every reported edit
//! reached the hub exactly once.

use std::io::Write;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use crate::catalog::Catalog;
use crate::protocol::{Action, Owner};
use crate::sync::driver::Syncer;
use crate::sync::engine::Policy;
use crate::sync::outbox::{self, Edited};

/// Runs `steps` edits on `db`, writing `op SEQ SKU PRESENT` to `report` after each
/// local commit.
pub fn run(db: &Path, customer: &str, skus: &[String], steps: usize, report: &mut impl Write) -> anyhow::Result<()> {
    anyhow::ensure!(!skus.is_empty(), "give --skus");
    let policy = Policy {
        base: SignedDuration::from_millis(5),
        cap: SignedDuration::from_millis(50),
        ..Default::default()
    };
    let syncer = Syncer::open(db, policy)?;
    let mut catalog = Catalog::open(db)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    // An anonymous visit's list: what a kiosk writes without a sign-in.
    let owner = Owner::Visit(customer.to_owned());
    for step in 0..steps {
        let sku = &skus[rand::random_range(0..skus.len())];
        let present = outbox::wishlist(catalog.connection(), &owner)?
            .iter()
            .any(|l| &l.sku == sku);
        let action = if present { Action::Remove } else { Action::Add };
        if let Edited::Queued { seq } = outbox::edit(catalog.connection(), Timestamp::now(), &owner, sku, action, None)?
        {
            writeln!(report, "op {seq} {sku} {}", !present)?;
            report.flush()?;
        }
        if step % 4 == 3 {
            runtime.block_on(syncer.drain())?;
        }
    }
    Ok(())
}
