//! The kiosk's health, as staff see it: sync (pushes, pulls, what waits, the hub's
//! answer now), the camera, the catalog, the app and the disk; "sync now" and "refresh
//! the catalog" through the sync thread.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use slint::{ComponentHandle, SharedString};

use crate::health;
use crate::kiosk::adapters;
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, StaffAction, StaffHealthAdapter};
use crate::kiosk::views::on;

pub struct Health {
    ctx: Rc<Ctx>,
    /// The kiosk's data directory, for its disk use.
    data_dir: RefCell<Option<PathBuf>>,
    /// The hub's answer to the last probe: its round trip, or why not.
    probe: RefCell<Option<Result<Duration, String>>>,
    /// Bytes of the data directory and bytes free, measured when the screen opens and
    /// after a sync (a walk of every file: not at each two-second refresh).
    disk: std::cell::Cell<(u64, u64)>,
    /// Shown only in staff mode.
    active: std::cell::Cell<bool>,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Health> {
    let health = Rc::new(Health {
        ctx: ctx.clone(),
        data_dir: RefCell::default(),
        probe: RefCell::default(),
        disk: Default::default(),
        active: Default::default(),
    });
    on!(window, &health, StaffHealthAdapter.on_sync_now, |this| this.sync(false));
    on!(window, &health, StaffHealthAdapter.on_refresh_catalog, |this| this
        .sync(true));
    health
}

impl Health {
    pub fn set_data_dir(&self, dir: Option<PathBuf>) {
        *self.data_dir.borrow_mut() = dir;
    }

    /// Staff mode begins or ends; the screen starts with no probe and no action.
    pub fn set_active(&self, active: bool) {
        self.active.set(active);
        *self.probe.borrow_mut() = None;
        self.ctx
            .with_window(|w| w.global::<StaffHealthAdapter>().set_action(StaffAction::None));
    }

    /// The screen opens: the hub is asked whether it answers, and the rest is read.
    pub fn open(self: &Rc<Self>) {
        self.probe_hub();
        self.measure_disk();
    }

    /// Walks the data directory on the catalog thread, then refreshes the screen.
    fn measure_disk(self: &Rc<Self>) {
        let (dir, this) = (self.data_dir.borrow().clone(), self.clone());
        self.ctx.spawn(async move {
            let measured = this
                .ctx
                .catalog
                .run(move |_| Ok(dir.as_deref().map(health::disk_use)))
                .await;
            match measured {
                Ok(disk) => this.disk.set(disk.unwrap_or_default()),
                Err(e) => tracing::warn!("cannot measure the kiosk's disk use: {e}"),
            }
            this.refresh();
        });
    }

    /// Asks the hub whether it answers (again at each "sync now").
    fn probe_hub(self: &Rc<Self>) {
        let Some(sync) = self.ctx.sync.clone() else { return };
        let this = self.clone();
        Ctx::spawn_waiting(async move {
            let answer = sync.probe().await.map_err(|e| format!("{e:#}"));
            if this.active.get() {
                *this.probe.borrow_mut() = Some(answer);
                this.refresh();
            }
        });
    }

    /// Reads the kiosk's health into the screen.
    pub fn refresh(self: &Rc<Self>) {
        let (this, now) = (self.clone(), self.ctx.now());
        self.ctx.spawn(async move {
            let ctx = &this.ctx;
            let answer = ctx.catalog.run(|c| Ok(health::gather(c)?)).await;
            let facts = match answer {
                Ok(facts) => facts,
                Err(e) => return tracing::error!("cannot read the kiosk's health: {e}"),
            };
            let camera = ctx.camera.borrow().clone();
            let last_read = ctx.last_read.get();
            let probe = this.probe.borrow().clone();
            let status = &facts.status;
            // Reachable: the probe says so; before it answers, the kiosk's own facts.
            let (reachable, error, round_trip) = match &probe {
                Some(Ok(rtt)) => (true, String::new(), i32::try_from(rtt.as_millis()).unwrap_or(i32::MAX)),
                Some(Err(why)) => (false, why.clone(), -1),
                None => (health::looks_reachable(&facts, now), String::new(), -1),
            };
            let error = status.last_error.clone().unwrap_or(error);
            let count = |n: u64| n.min(i32::MAX as u64) as i32;
            ctx.with_window(|w| {
                let ui = w.global::<StaffHealthAdapter>();
                ui.set_sync_ok(reachable && status.last_error.is_none());
                ui.set_hub_ms(round_trip);
                ui.set_sync_error(error.as_str().into());
                ui.set_last_push_minutes(adapters::minutes_since(status.last_push, now));
                ui.set_last_pull_minutes(adapters::minutes_since(status.last_pull, now));
                ui.set_outbox_waiting(count(status.pending));
                ui.set_outbox_rejected(count(status.rejected));
                ui.set_events_waiting(count(facts.events_waiting));
                ui.set_hub_address(
                    facts
                        .device
                        .as_ref()
                        .map(|d| d.hub_url.as_str())
                        .unwrap_or_default()
                        .into(),
                );
                ui.set_kiosk(
                    facts
                        .device
                        .as_ref()
                        .map(|d| format!("{} · {}", d.store_code, d.device_id))
                        .unwrap_or_else(|| ctx.store.clone())
                        .into(),
                );
                match &camera {
                    Some(camera) => {
                        ui.set_camera_name(camera.name.as_str().into());
                        ui.set_camera_fps(format!("{:.1}", camera.stats.fps()).into());
                        ui.set_camera_over_budget(count(camera.stats.over_budget.load(Ordering::Relaxed)));
                    }
                    None => {
                        ui.set_camera_name(SharedString::new());
                        ui.set_camera_fps("—".into());
                        ui.set_camera_over_budget(0);
                    }
                }
                ui.set_camera_read_minutes(
                    last_read.map_or(-1, |t| i32::try_from(t.elapsed().as_secs() / 60).unwrap_or(i32::MAX)),
                );
                ui.set_catalog_products(count(facts.products));
                ui.set_inventory_minutes(adapters::minutes_since(facts.inventory_as_of, now));
                ui.set_app_version(env!("CARGO_PKG_VERSION").into());
                let (used, free) = this.disk.get();
                ui.set_disk_data(adapters::bytes(used));
                ui.set_disk_free(adapters::bytes(free));
            });
        });
    }

    /// "Sync now" (`pull_only`: "refresh the catalog"), through the sync thread.
    fn sync(self: &Rc<Self>, pull_only: bool) {
        let set = |action| {
            self.ctx
                .with_window(|w| w.global::<StaffHealthAdapter>().set_action(action))
        };
        let Some(sync) = self.ctx.sync.clone() else {
            return set(if pull_only {
                StaffAction::RefreshFailed
            } else {
                StaffAction::SyncFailed
            });
        };
        set(if pull_only {
            StaffAction::Refreshing
        } else {
            StaffAction::Syncing
        });
        let this = self.clone();
        // Waits on the network, not on the kiosk: not pending work.
        Ctx::spawn_waiting(async move {
            let action = if pull_only {
                match sync.pull().await {
                    Ok(_) => StaffAction::Refreshed,
                    Err(e) => {
                        tracing::warn!("catalog refresh failed: {e:#}");
                        StaffAction::RefreshFailed
                    }
                }
            } else {
                match sync.sync_now().await {
                    Ok(_) => StaffAction::Synced,
                    Err(e) => {
                        tracing::warn!("sync failed: {e:#}");
                        StaffAction::SyncFailed
                    }
                }
            };
            if this.active.get() {
                this.ctx
                    .with_window(|w| w.global::<StaffHealthAdapter>().set_action(action));
                this.probe_hub();
                this.measure_disk();
            }
        });
    }
}
