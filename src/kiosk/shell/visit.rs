//! A visit: its beginning (a tap on the attract screen, or a code scanned there), its
//! clock (idle warning, countdown, maximum), and its end, which leaves nothing of the
//! shopper on screen, in the views' models or in the kiosk's memory. And what a scanned
//! code does: a customer's token signs them in, a product's code opens its sheet, a
//! staff badge opens the keypad. Each of these is measured (`Ctx::record`).

use std::rc::Rc;
use std::time::Instant;

use slint::ComponentHandle;

use super::Shell;
use crate::kiosk::context::Visit;
use crate::kiosk::session::{EndReason, Session, Tick};
use crate::kiosk::ui::{AppAdapter, Notice, Screen};
use crate::protocol::Owner;
use crate::protocol::measure::{EventDetail, SignInMethod, ViewSource, VisitEnd};
use crate::scan::payload::{self, Payload};
use crate::sync::outbox;
use crate::token::{Alias, Rejection};
use crate::trust;

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

impl Shell {
    /// Starts a new anonymous visit: an empty wishlist that belongs to no one yet.
    pub fn begin_visit(&self) {
        let now = Instant::now();
        *self.ctx.visit.borrow_mut() = Visit::begin(now);
        *self.ctx.session.borrow_mut() = Some(Session::new(self.visit_limits(), now));
        self.ctx.record(EventDetail::VisitStarted);
        self.views.wishlist.refresh();
        // The last pull may have brought the shop's popularity since the home screen loaded.
        self.views.home.load_popular();
    }

    /// Starts a visit if none is going on (a code scanned on the attract screen, the
    /// accessibility mode turned on there).
    pub(super) fn ensure_session(&self) {
        if self.ctx.session.borrow().is_none() {
            self.begin_visit();
        }
    }

    /// Every second: the idle warning, the end of the session, the keypad's countdown.
    pub(super) fn session_tick(self: &Rc<Self>) {
        // Confirming on their phone, the shopper does not touch the screen.
        if self.views.codes.pairing() {
            self.ctx.touch();
        }
        self.views.keypad.tick();
        let Some(session) = *self.ctx.session.borrow() else {
            return;
        };
        match session.tick(Instant::now()) {
            Tick::Quiet => {}
            Tick::Warn { seconds_left } => self.ctx.with_window(|w| {
                w.global::<AppAdapter>()
                    .set_idle_seconds(i32::try_from(seconds_left).unwrap_or(i32::MAX));
            }),
            Tick::End(reason) => {
                tracing::info!(?reason, "session ended");
                self.done(match reason {
                    EndReason::Idle => VisitEnd::Idle,
                    EndReason::MaxReached => VisitEnd::Maximum,
                });
            }
        }
    }

    /// "I'm done", or the session's clock ran out (`reason`): leaves staff mode, or ends
    /// the visit.
    pub(super) fn done(&self, reason: VisitEnd) {
        if self.in_staff() {
            self.exit_staff();
        } else {
            self.end_session(reason);
        }
    }

    /// Ends the session ("Done", idle, the maximum, or the next shopper): back to the
    /// attract screen with a fresh visit, every model emptied, the shopper's lines
    /// dropped from the kiosk's view (unsent edits stay in the outbox until sent). The
    /// visit's end is measured, if one was under way, while the event can still name it.
    pub fn end_session(&self, reason: VisitEnd) {
        let started = self.ctx.visit.borrow().started;
        if let Some(started) = started {
            let seconds = u32::try_from(started.elapsed().as_secs()).unwrap_or(u32::MAX);
            self.ctx.record(EventDetail::VisitEnded { seconds, reason });
        }
        let ended = std::mem::take(&mut *self.ctx.visit.borrow_mut());
        *self.ctx.session.borrow_mut() = None;
        self.nav.borrow_mut().reset(Screen::Attract);
        self.views.codes.close();
        self.views.scan.close();
        self.views.search.clear();
        self.views.results.clear();
        self.views.product.clear();
        self.views.wishlist.clear();
        self.ctx.clear_notice();
        // Speech, larger text, contrast, reach, more time: the next shopper starts
        // with none of them.
        self.a11y.reset();
        self.ctx.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_screen(Screen::Attract);
            app.set_can_go_back(false);
            app.set_signed_in(false);
            app.set_idle_seconds(0);
            app.set_waiting(0);
        });
        // The next shopper starts in the shop's language, not the last one's.
        let lang = self.ctx.remote.borrow().language.clone();
        let lang = lang.unwrap_or_else(|| self.default_lang.borrow().clone());
        if self.ctx.langs.borrow().ui != lang {
            self.set_language(&lang);
        }
        let ctx = self.ctx.clone();
        self.ctx.spawn(async move {
            let customer = ended.customer.map(|c| Owner::Alias(c.to_string()));
            let forgotten = ctx
                .catalog
                .run(move |c| Ok(outbox::end_visit(c.connection(), &ended.id, customer.as_ref())?))
                .await;
            if let Err(e) = forgotten {
                tracing::error!("cannot clear the shopper's lines: {e}");
            }
        });
    }

    /// A code the camera read (or a test handed in): a customer's signs them in with
    /// their app's code.
    pub fn scanned(self: &Rc<Self>, text: &str) {
        self.read_code(text, SignInMethod::AppCode);
    }

    /// A code to act on: the camera's, or the token of a confirmed phone sign-in; a
    /// customer's token signs them in by `method`.
    pub fn read_code(self: &Rc<Self>, text: &str, method: SignInMethod) {
        self.views.scan.close();
        self.ctx.last_read.set(Some(Instant::now()));
        if text.chars().count() > payload::MAX_PAYLOAD_CHARS {
            if !self.in_staff() {
                self.ctx.record(EventDetail::CodeScanned { sku: None });
            }
            return self.ctx.notify(Notice::CodeNotOurs);
        }
        // A staff badge opens the keypad on that name; in staff mode, codes are products.
        if let Some(id) = crate::staff::pin::parse_badge(text) {
            if !self.in_staff() {
                self.open_keypad(Some(id));
            }
            return;
        }
        if self.in_staff() {
            return self.views.stock.scanned(text);
        }
        let (this, text, now) = (self.clone(), text.to_owned(), self.ctx.now());
        self.ctx.spawn(async move {
            let ctx = &this.ctx;
            // The keys are read at each scan: a rotation pulled a minute ago counts. So
            // is the replay cache, which outlives a restart.
            let read = ctx
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
                    if let Err(e) = ctx
                        .catalog
                        .run(move |c| Ok(trust::save_seen(c.connection(), &seen)?))
                        .await
                    {
                        tracing::error!("cannot keep the used codes: {e}");
                    }
                    this.sign_in(claims.customer, text, method);
                }
                Err(Rejection::NotAToken) => this.open_code(&text),
                Err(rejection) => {
                    tracing::info!(%rejection, "a customer code was refused");
                    ctx.notify(notice_for(rejection));
                }
            }
        });
    }

    /// A product's own code: opens its sheet on that variant.
    fn open_code(self: &Rc<Self>, text: &str) {
        let Payload::Product(code) = payload::classify(text) else {
            self.ctx.record(EventDetail::CodeScanned { sku: None });
            return self.ctx.notify(Notice::CodeNotOurs);
        };
        let this = self.clone();
        self.ctx.spawn(async move {
            let hit = this.ctx.catalog.run(move |c| c.lookup(code.as_lookup())).await;
            match hit {
                Ok(Some(hit)) => {
                    this.ensure_session();
                    this.ctx.record(EventDetail::CodeScanned {
                        sku: Some(hit.sku.clone()),
                    });
                    this.open_product_on(&hit.group_id, &hit.sku, ViewSource::Scan);
                }
                Ok(None) => {
                    this.ctx.record(EventDetail::CodeScanned { sku: None });
                    this.ctx.notify(Notice::ProductNotFound);
                }
                Err(e) => {
                    tracing::error!("cannot look the code up: {e}");
                    this.ctx.notify(Notice::ProductNotFound);
                }
            }
        });
    }

    /// Signs a customer in to this visit (by `method`): the visit's hearts move into their
    /// account, their list (with what they saved online) is shown, and the hub hears of
    /// the visit.
    fn sign_in(self: &Rc<Self>, customer: Alias, token: String, method: SignInMethod) {
        let current = self.ctx.visit.borrow().customer;
        if current == Some(customer) {
            self.ctx.notify(Notice::Welcome);
            return self.go(Screen::Wishlist);
        }
        if current.is_some() {
            // The next shopper: nothing of the previous one stays.
            self.end_session(VisitEnd::NextShopper);
        }
        self.ensure_session();
        let visit = {
            let mut visit = self.ctx.visit.borrow_mut();
            visit.customer = Some(customer);
            visit.id.clone()
        };
        self.ctx.record(EventDetail::SignedIn { method });
        let (this, now) = (self.clone(), self.ctx.now());
        self.ctx.spawn(async move {
            let ctx = &this.ctx;
            let owner = Owner::Alias(customer.to_string());
            let moved = ctx
                .catalog
                .run(move |c| Ok(outbox::sign_in(c.connection(), now, &visit, &owner, &token)?))
                .await;
            if let Err(e) = moved {
                tracing::error!("cannot record the sign-in: {e}");
            }
            ctx.wake_sync();
            if ctx.visit.borrow().customer != Some(customer) {
                return;
            }
            ctx.with_window(|w| w.global::<AppAdapter>().set_signed_in(true));
            ctx.notify(Notice::Welcome);
            this.go(Screen::Wishlist);
            this.views.wishlist.refresh();
            let Some(sync) = ctx.sync.clone() else { return };
            match sync.fetch_customer(&customer.to_string()).await {
                Ok(_) if this.ctx.visit.borrow().customer == Some(customer) => this.views.wishlist.refresh(),
                Ok(_) => {}
                Err(e) => tracing::warn!("the customer's online list is not available: {e:#}"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_code_is_told_in_the_shoppers_words() {
        assert_eq!(notice_for(Rejection::Expired), Notice::CodeExpired);
        assert_eq!(notice_for(Rejection::Replayed), Notice::CodeUsed);
        assert_eq!(notice_for(Rejection::BadSignature), Notice::CodeInvalid);
        assert_eq!(notice_for(Rejection::WrongAudience), Notice::CodeInvalid);
    }
}
