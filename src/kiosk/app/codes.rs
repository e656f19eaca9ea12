//! The codes the kiosk shows for the shopper's phone: a product's page ("view on your
//! phone"), their list ("take my list", for anonymous visits too), and signing in with
//! the phone (a pairing the hub confirms; the token it hands back signs the shopper in
//! exactly as a scanned app code does).
//!
//! One code at a time. Closing it, opening another, or the end of the visit bumps
//! `qr_seq`, so answers still on their way are dropped, and drops the pairing's guard,
//! so the sync thread stops polling and the hub forgets the pairing.

use std::rc::Rc;

use qrcode::{EcLevel, QrCode};
use slint::{ComponentHandle, Image};
use tokio::sync::oneshot;

use super::Controller;
use crate::kiosk::ui::{AppAdapter, QrKind, QrState};
use crate::kiosk::{images, links};
use crate::sync::pairing::{PairOutcome, Pairing};
use crate::sync::trust;

/// Pixels across the code at the least; Slint scales it without smoothing.
const CODE_PIXELS: u32 = 320;

/// `text` as a QR code picture, dark on white. Level L: a screen does not get scratched,
/// and a lower version has bigger modules for the phone to read.
fn code_image(text: &str) -> Option<Image> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
    let picture = code
        .render::<image::Luma<u8>>()
        // The white card around it is the quiet zone.
        .quiet_zone(false)
        .min_dimensions(CODE_PIXELS, CODE_PIXELS)
        .build();
    Some(Image::from_rgb8(images::from_gray(&picture)))
}

impl Controller {
    /// Shows a code of `kind` in place of any other.
    pub(super) fn show_qr(self: &Rc<Self>, kind: QrKind) {
        self.close_qr();
        if kind == QrKind::None {
            return;
        }
        let seq = self.state.borrow().qr_seq;
        self.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_qr_kind(kind);
            app.set_qr_state(QrState::Loading);
        });
        match kind {
            QrKind::Product => {
                let link = self
                    .state
                    .borrow()
                    .sheet
                    .as_ref()
                    .and_then(|s| s.link.as_deref())
                    .and_then(|l| links::product(l, &self.store));
                self.show_link(seq, link);
            }
            QrKind::List => {
                let skus: Vec<String> = self.state.borrow().saved.iter().map(|s| s.sku.clone()).collect();
                let (this, store) = (self.clone(), self.store.clone());
                self.spawn(async move {
                    let settings = this.catalog.run(|c| Ok(trust::settings(c.connection())?)).await;
                    let link = match settings {
                        Ok(settings) => settings.list_url.and_then(|page| links::list(&page, &skus, &store)),
                        Err(e) => {
                            tracing::error!("cannot read the web store's pages: {e}");
                            None
                        }
                    };
                    if let Some((_, fitted)) = link.as_ref().filter(|(_, n)| *n < skus.len()) {
                        tracing::warn!(fitted, saved = skus.len(), "the list link names only the newest pieces");
                    }
                    this.show_link(seq, link.map(|(link, _)| link));
                });
            }
            QrKind::Pairing => self.start_pairing(seq),
            QrKind::None => {}
        }
    }

    fn show_link(&self, seq: u64, link: Option<String>) {
        if self.state.borrow().qr_seq != seq {
            return;
        }
        match link.as_deref().and_then(code_image) {
            Some(image) => self.with_window(|w| {
                let app = w.global::<AppAdapter>();
                app.set_qr_code(image);
                app.set_qr_state(QrState::Ready);
            }),
            // The buttons only show when there is a page to link to: this is a feed's
            // broken link, not something the shopper can fix.
            None => {
                tracing::warn!("no web store link to show");
                self.close_qr();
            }
        }
    }

    /// Asks the hub for a pairing, shows it, and signs the shopper in when they confirm.
    fn start_pairing(self: &Rc<Self>, seq: u64) {
        let Some(sync) = self.sync.clone() else {
            return self.set_qr_state(seq, QrState::Offline);
        };
        let this = self.clone();
        self.spawn(async move {
            let Pairing {
                started,
                outcome,
                guard,
            } = match sync.pair().await {
                Ok(pairing) => pairing,
                Err(e) => {
                    tracing::warn!("cannot start a sign-in with the phone: {e:#}");
                    return this.set_qr_state(seq, QrState::Offline);
                }
            };
            {
                let mut state = this.state.borrow_mut();
                if state.qr_seq != seq {
                    return; // Closed meanwhile: dropping the guard cancels it.
                }
                state.pairing = Some(guard);
            }
            let address = started
                .verification_uri
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned();
            let image = code_image(&started.verification_uri_complete);
            this.with_window(|w| {
                let app = w.global::<AppAdapter>();
                app.set_qr_code(image.unwrap_or_default());
                app.set_qr_user_code(started.user_code.as_str().into());
                app.set_qr_address(address.as_str().into());
                app.set_qr_state(QrState::Ready);
            });
            Controller::spawn_waiting(this.answer_pairing(seq, outcome));
        });
    }

    /// Waits for the shopper's answer on their phone.
    async fn answer_pairing(self: Rc<Self>, seq: u64, outcome: oneshot::Receiver<PairOutcome>) {
        let ended = outcome.await;
        if self.state.borrow().qr_seq != seq {
            return;
        }
        self.state.borrow_mut().pairing = None;
        match ended {
            Ok(PairOutcome::Approved(token)) => {
                self.close_qr();
                self.scanned(&token);
            }
            Ok(PairOutcome::Denied) => self.set_qr_state(seq, QrState::Declined),
            Ok(PairOutcome::Expired) | Err(_) => self.set_qr_state(seq, QrState::Expired),
        }
    }

    fn set_qr_state(&self, seq: u64, state: QrState) {
        if self.state.borrow().qr_seq == seq {
            self.with_window(|w| w.global::<AppAdapter>().set_qr_state(state));
        }
    }

    /// "New code" after an expired or declined pairing.
    pub(super) fn renew_qr(self: &Rc<Self>) {
        let mut kind = QrKind::None;
        self.with_window(|w| kind = w.global::<AppAdapter>().get_qr_kind());
        self.show_qr(kind);
    }

    /// Takes the code off the screen, and cancels a pairing under way.
    pub(super) fn close_qr(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.qr_seq += 1;
            state.pairing = None;
        }
        self.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_qr_kind(QrKind::None);
            app.set_qr_state(QrState::Loading);
            app.set_qr_code(Image::default());
            app.set_qr_user_code("".into());
            app.set_qr_address("".into());
        });
    }
}
