//! Who is at the kiosk: what a scanned code does (a customer's token signs them in, a
//! product's code opens its sheet), and the end of a session, which leaves nothing of
//! the shopper on screen, in the UI models or in the kiosk's memory.

use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Image, ModelRc, TimerMode, VecModel};

use super::Controller;
use crate::kiosk::images;
use crate::kiosk::session::{Session, Tick};
use crate::kiosk::ui::{AppAdapter, Notice, ProductAdapter, ResultsAdapter, Screen, SearchAdapter, WishlistAdapter};
use crate::protocol::Owner;
use crate::scan::payload::{self, Payload};
use crate::scan::scanner::Camera;
use crate::sync::{outbox, trust};
use crate::token::{Alias, Rejection};

/// What the shopper reads when their code is refused.
fn notice_for(rejection: Rejection) -> Notice {
    match rejection {
        Rejection::Expired => Notice::CodeExpired,
        Rejection::NotYetValid => Notice::CodeNotYetValid,
        Rejection::Replayed => Notice::CodeUsed,
        Rejection::NotAToken
        | Rejection::Malformed
        | Rejection::UnknownKey
        | Rejection::BadSignature
        | Rejection::WrongAudience => Notice::CodeInvalid,
    }
}

/// How often the scan sheet's preview is refreshed.
const PREVIEW_EVERY: Duration = Duration::from_millis(66);

impl Controller {
    /// A camera reads codes for this kiosk; its preview shows what it sees.
    pub fn set_camera(&self, camera: Camera) {
        *self.camera.borrow_mut() = Some(camera);
        self.with_window(|w| w.global::<AppAdapter>().set_has_camera(true));
    }

    /// The scan sheet: the camera's live picture and the frame to aim at.
    pub(super) fn open_scan(self: &Rc<Self>) {
        let Some(preview) = self.camera.borrow().as_ref().map(|c| c.preview.clone()) else {
            return;
        };
        preview.set_wanted(true);
        self.with_window(|w| w.global::<AppAdapter>().set_scan_open(true));
        let window = self.window.clone();
        self.preview_timer.start(TimerMode::Repeated, PREVIEW_EVERY, move || {
            if let (Some(w), Some(picture)) = (window.upgrade(), preview.take()) {
                w.global::<AppAdapter>()
                    .set_scan_preview(Image::from_rgb8(images::from_gray(&picture)));
            }
        });
    }

    /// Closes the scan sheet; no picture of the camera is kept.
    pub(super) fn close_scan(&self) {
        self.preview_timer.stop();
        if let Some(camera) = self.camera.borrow().as_ref() {
            camera.preview.set_wanted(false);
        }
        self.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_scan_open(false);
            app.set_scan_preview(Image::default());
        });
    }

    /// A code the camera read (or a test handed in).
    pub fn scanned(self: &Rc<Self>, text: &str) {
        self.close_scan();
        self.last_read.set(Some(Instant::now()));
        if text.chars().count() > payload::MAX_PAYLOAD_CHARS {
            return self.notify(Notice::CodeNotOurs);
        }
        // A staff badge opens the keypad on that name; in staff mode, codes are products.
        if let Some(id) = crate::pin::parse_badge(text) {
            if !self.in_staff() {
                self.open_keypad(Some(id));
            }
            return;
        }
        if self.in_staff() {
            return self.staff_scanned(text);
        }
        let (this, text, now) = (self.clone(), text.to_owned(), self.now());
        self.spawn(async move {
            // The keys are read at each scan: a rotation pulled a minute ago counts. So
            // is the replay cache, which outlives a restart.
            let read = this
                .catalog
                .run(move |c| Ok((trust::load(c.connection())?, trust::load_seen(c.connection(), now)?)))
                .await;
            match read {
                Ok((keys, seen)) => {
                    let mut verifier = this.verifier.borrow_mut();
                    if let Some((audience, keys)) = keys {
                        verifier.update(&audience, keys);
                    }
                    verifier.restore(seen);
                }
                Err(e) => tracing::error!("cannot read the token keys: {e}"),
            }
            let verdict = this.verifier.borrow_mut().verify(&text, now);
            match verdict {
                Ok(claims) => {
                    let seen = this.verifier.borrow().replay_cache();
                    if let Err(e) = this
                        .catalog
                        .run(move |c| Ok(trust::save_seen(c.connection(), &seen)?))
                        .await
                    {
                        tracing::error!("cannot keep the used codes: {e}");
                    }
                    this.sign_in(claims.customer);
                }
                Err(Rejection::NotAToken) => this.open_code(&text),
                Err(rejection) => {
                    tracing::info!(%rejection, "a customer code was refused");
                    this.notify(notice_for(rejection));
                }
            }
        });
    }

    /// A product's own code: opens its sheet on that variant.
    fn open_code(self: &Rc<Self>, text: &str) {
        let Payload::Product(code) = payload::classify(text) else {
            return self.notify(Notice::CodeNotOurs);
        };
        let this = self.clone();
        self.spawn(async move {
            let hit = this.catalog.run(move |c| c.lookup(code.as_lookup())).await;
            match hit {
                Ok(Some(hit)) => {
                    this.ensure_session();
                    this.open_product(&hit.group_id);
                    this.state.borrow_mut().chosen_sku = Some(hit.sku);
                }
                Ok(None) => this.notify(Notice::ProductNotFound),
                Err(e) => {
                    tracing::error!("cannot look the code up: {e}");
                    this.notify(Notice::ProductNotFound);
                }
            }
        });
    }

    /// Starts a visit if none is going on (a code scanned on the attract screen).
    fn ensure_session(self: &Rc<Self>) {
        if self.state.borrow().session.is_none() {
            self.begin_visit();
        }
    }

    /// Signs a customer in to this visit: the visit's hearts move into their account, their
    /// list (with what they saved online) is shown, and the hub hears of the visit.
    fn sign_in(self: &Rc<Self>, customer: Alias) {
        let current = self.state.borrow().customer;
        if current == Some(customer) {
            self.notify(Notice::Welcome);
            return self.go(Screen::Wishlist);
        }
        if current.is_some() {
            // The next shopper: nothing of the previous one stays.
            self.end_session();
        }
        self.ensure_session();
        let visit = {
            let mut state = self.state.borrow_mut();
            state.customer = Some(customer);
            state.visit.clone()
        };
        let (this, now) = (self.clone(), self.now());
        self.spawn(async move {
            let owner = Owner::Alias(customer.to_string());
            let moved = this
                .catalog
                .run(move |c| Ok(outbox::sign_in(c.connection(), now, &visit, &owner)?))
                .await;
            if let Err(e) = moved {
                tracing::error!("cannot record the sign-in: {e}");
            }
            if let Some(sync) = &this.sync {
                sync.wake();
            }
            if this.state.borrow().customer != Some(customer) {
                return;
            }
            this.with_window(|w| w.global::<AppAdapter>().set_signed_in(true));
            this.notify(Notice::Welcome);
            this.go(Screen::Wishlist);
            this.refresh_wishlist();
            let Some(sync) = this.sync.clone() else { return };
            match sync.fetch_customer(&customer.to_string()).await {
                Ok(_) if this.state.borrow().customer == Some(customer) => this.refresh_wishlist(),
                Ok(_) => {}
                Err(e) => tracing::warn!("the customer's online list is not available: {e:#}"),
            }
        });
    }

    /// The shopper did something: the idle clock starts again.
    pub(super) fn touch(&self) {
        let mut state = self.state.borrow_mut();
        if let Some(session) = state.session.as_mut() {
            session.touch(Instant::now());
        }
        drop(state);
        self.with_window(|w| w.global::<AppAdapter>().set_idle_seconds(0));
    }

    pub(super) fn start_session_clock(&self) {
        self.state.borrow_mut().session = Some(Session::new(self.limits.get(), Instant::now()));
    }

    /// Every second: the idle warning, or the end of the session.
    pub(super) fn session_tick(self: &Rc<Self>) {
        // Confirming on their phone, the shopper does not touch the screen.
        if self.state.borrow().pairing.is_some() {
            self.touch();
        }
        if self.in_staff() {
            self.staff_tick();
        }
        let Some(session) = self.state.borrow().session else {
            return;
        };
        match session.tick(Instant::now()) {
            Tick::Quiet => {}
            Tick::Warn { seconds_left } => self.with_window(|w| {
                w.global::<AppAdapter>()
                    .set_idle_seconds(i32::try_from(seconds_left).unwrap_or(i32::MAX));
            }),
            Tick::End(reason) => {
                tracing::info!(?reason, "session ended");
                self.done();
            }
        }
    }

    /// "I'm done", or the idle warning's end: leaves staff mode, or ends the visit.
    pub(super) fn done(self: &Rc<Self>) {
        if self.in_staff() {
            self.exit_staff();
        } else {
            self.end_session();
        }
    }

    /// Ends the session ("Done", idle, the maximum, or the next shopper): back to the
    /// attract screen with a fresh visit, every model emptied, the shopper's lines
    /// dropped from the kiosk's view (unsent edits stay in the outbox until sent).
    pub fn end_session(self: &Rc<Self>) {
        let (visit, customer) = {
            let mut state = self.state.borrow_mut();
            let visit = std::mem::replace(&mut state.visit, crate::sync::driver::random_id());
            let customer = state.customer.take();
            state.session = None;
            state.saved.clear();
            state.history.clear();
            state.screen = Screen::Attract;
            state.search_text.clear();
            state.results = None;
            state.facets = Default::default();
            state.sheet = None;
            state.chosen_sku = None;
            // Answers still on their way belong to the shopper who left.
            state.search_seq += 1;
            state.results_seq += 1;
            state.product_seq += 1;
            state.wishlist_seq += 1;
            (visit, customer)
        };
        self.close_qr();
        self.close_scan();
        self.clear_models();
        self.notice_timer.stop();
        let this = self.clone();
        self.spawn(async move {
            let forgotten = this
                .catalog
                .run(move |c| {
                    outbox::forget(c.connection(), &Owner::Visit(visit))?;
                    if let Some(customer) = customer {
                        outbox::forget(c.connection(), &Owner::Alias(customer.to_string()))?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = forgotten {
                tracing::error!("cannot clear the shopper's lines: {e}");
            }
        });
    }

    /// Empties every model that could show something of the shopper.
    fn clear_models(&self) {
        self.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_screen(Screen::Attract);
            app.set_can_go_back(false);
            app.set_signed_in(false);
            app.set_idle_seconds(0);
            app.set_wishlist_count(0);
            app.set_waiting(0);
            app.set_notice(Notice::None);
            let search = w.global::<SearchAdapter>();
            search.set_query("".into());
            search.set_results(ModelRc::new(VecModel::default()));
            search.set_total(0);
            let results = w.global::<ResultsAdapter>();
            results.set_title("".into());
            results.set_eyebrow("".into());
            results.set_results(ModelRc::new(VecModel::default()));
            results.set_total(0);
            results.set_sizes(ModelRc::new(VecModel::default()));
            results.set_colors(ModelRc::new(VecModel::default()));
            results.set_prices(ModelRc::new(VecModel::default()));
            let product = w.global::<ProductAdapter>();
            product.set_title("".into());
            product.set_description("".into());
            product.set_category("".into());
            product.set_images(ModelRc::new(VecModel::default()));
            product.set_colors(ModelRc::new(VecModel::default()));
            product.set_sizes(ModelRc::new(VecModel::default()));
            product.set_sku("".into());
            product.set_saved(false);
            product.set_has_link(false);
            w.global::<WishlistAdapter>()
                .set_items(ModelRc::new(VecModel::default()));
        });
    }
}
