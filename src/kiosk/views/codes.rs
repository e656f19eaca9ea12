//! The codes the kiosk shows for the shopper's phone: a product's page ("view on your
//! phone"), their list ("take my list", for anonymous visits too), and signing in with
//! the phone (a pairing the hub confirms; the token it hands back signs the shopper in
//! exactly as a scanned app code does, through the shell).
//!
//! One code at a time. Closing it, opening another, or the end of the visit bumps the
//! sequence, so answers still on their way are dropped, and drops the pairing's guard,
//! so the sync thread stops polling and the hub forgets the pairing. A product's or a
//! list's code is measured once it is on screen, and its link names the visit under way
//! (`kiosk::links`), so the hub can credit an order placed from it to this visit.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use qrcode::{EcLevel, QrCode};
use slint::{ComponentHandle, Image};
use tokio::sync::oneshot;

use super::on;
use crate::kiosk::context::{Ctx, Hook};
use crate::kiosk::ui::{AppAdapter, AppWindow, QrKind, QrState};
use crate::kiosk::{images, links};
use crate::pairing::{PairOutcome, Pairing, PairingGuard};
use crate::protocol::measure::EventDetail;
use crate::trust;

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

/// What a code shows, as the shell hands it over.
pub enum Code {
    /// The web store's page of a product, with attribution, and the variant shown.
    Product { link: Option<String>, sku: Option<String> },
    /// The visit's SKUs, newest first, for "take my list".
    List(Vec<String>),
    /// A sign-in with the phone.
    Pairing,
}

pub struct Codes {
    ctx: Rc<Ctx>,
    seq: Cell<u64>,
    /// A sign-in with the phone under way; dropping it cancels it.
    pairing: RefCell<Option<PairingGuard>>,
    /// Signs the shopper in with the token a confirmed pairing handed back.
    on_token: Hook<String>,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Codes> {
    let codes = Rc::new(Codes {
        ctx: ctx.clone(),
        seq: Cell::default(),
        pairing: RefCell::default(),
        on_token: Hook::default(),
    });
    on!(window, &codes, AppAdapter.on_close_qr, |this| this.close());
    codes
}

impl Codes {
    /// What to do with the token of a confirmed pairing.
    pub fn on_token(&self, f: impl Fn(String) + 'static) {
        self.on_token.set(f);
    }

    /// Whether a pairing is under way (the shopper is confirming on their phone).
    pub fn pairing(&self) -> bool {
        self.pairing.borrow().is_some()
    }

    /// The kind of code on screen.
    pub fn kind(&self) -> QrKind {
        let mut kind = QrKind::None;
        self.ctx.with_window(|w| kind = w.global::<AppAdapter>().get_qr_kind());
        kind
    }

    /// Shows a code in place of any other.
    pub fn show(self: &Rc<Self>, code: Code) {
        self.close();
        let kind = match code {
            Code::Product { .. } => QrKind::Product,
            Code::List(_) => QrKind::List,
            Code::Pairing => QrKind::Pairing,
        };
        let seq = self.seq.get();
        self.ctx.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_qr_kind(kind);
            app.set_qr_state(QrState::Loading);
        });
        match code {
            Code::Product { link, sku } => {
                let shown = sku.map(|sku| EventDetail::ProductCodeShown { sku });
                self.show_link(seq, link, shown);
            }
            Code::List(skus) => {
                let shown = EventDetail::ListCodeShown {
                    items: u32::try_from(skus.len()).unwrap_or(u32::MAX),
                };
                let (this, store) = (self.clone(), self.ctx.store.clone());
                let visit = self.ctx.visit.borrow().measured_id().map(str::to_owned);
                self.ctx.spawn(async move {
                    let settings = this.ctx.catalog.run(|c| Ok(trust::settings(c.connection())?)).await;
                    let link = match settings {
                        Ok(settings) => settings
                            .list_url
                            .and_then(|page| links::list(&page, &skus, &store, visit.as_deref())),
                        Err(e) => {
                            tracing::error!("cannot read the web store's pages: {e}");
                            None
                        }
                    };
                    if let Some((_, fitted)) = link.as_ref().filter(|(_, n)| *n < skus.len()) {
                        tracing::warn!(fitted, saved = skus.len(), "the list link names only the newest pieces");
                    }
                    this.show_link(seq, link.map(|(link, _)| link), Some(shown));
                });
            }
            Code::Pairing => self.start_pairing(seq),
        }
    }

    /// Shows the code of `link`; `shown` is the event that measures it, once it is there.
    fn show_link(&self, seq: u64, link: Option<String>, shown: Option<EventDetail>) {
        if self.seq.get() != seq {
            return;
        }
        match link.as_deref().and_then(code_image) {
            Some(image) => {
                self.ctx.with_window(|w| {
                    let app = w.global::<AppAdapter>();
                    app.set_qr_code(image);
                    app.set_qr_state(QrState::Ready);
                });
                if let Some(detail) = shown {
                    self.ctx.record(detail);
                }
            }
            // The buttons only show when there is a page to link to: this is a feed's
            // broken link, not something the shopper can fix.
            None => {
                tracing::warn!("no web store link to show");
                self.close();
            }
        }
    }

    /// Asks the hub for a pairing, shows it, and signs the shopper in when they confirm.
    fn start_pairing(self: &Rc<Self>, seq: u64) {
        let Some(sync) = self.ctx.sync.clone() else {
            return self.set_state(seq, QrState::Offline);
        };
        let this = self.clone();
        self.ctx.spawn(async move {
            let Pairing {
                started,
                outcome,
                guard,
            } = match sync.pair().await {
                Ok(pairing) => pairing,
                Err(e) => {
                    tracing::warn!("cannot start a sign-in with the phone: {e:#}");
                    return this.set_state(seq, QrState::Offline);
                }
            };
            if this.seq.get() != seq {
                return; // Closed meanwhile: dropping the guard cancels it.
            }
            *this.pairing.borrow_mut() = Some(guard);
            let address = started
                .verification_uri
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned();
            let image = code_image(&started.verification_uri_complete);
            this.ctx.with_window(|w| {
                let app = w.global::<AppAdapter>();
                app.set_qr_code(image.unwrap_or_default());
                app.set_qr_user_code(started.user_code.as_str().into());
                app.set_qr_address(address.as_str().into());
                app.set_qr_state(QrState::Ready);
            });
            Ctx::spawn_waiting(this.answer_pairing(seq, outcome));
        });
    }

    /// Waits for the shopper's answer on their phone.
    async fn answer_pairing(self: Rc<Self>, seq: u64, outcome: oneshot::Receiver<PairOutcome>) {
        let ended = outcome.await;
        if self.seq.get() != seq {
            return;
        }
        *self.pairing.borrow_mut() = None;
        match ended {
            Ok(PairOutcome::Approved(token)) => {
                self.close();
                self.on_token.call(token);
            }
            Ok(PairOutcome::Denied) => self.set_state(seq, QrState::Declined),
            Ok(PairOutcome::Expired) | Err(_) => self.set_state(seq, QrState::Expired),
        }
    }

    fn set_state(&self, seq: u64, state: QrState) {
        if self.seq.get() == seq {
            self.ctx.with_window(|w| w.global::<AppAdapter>().set_qr_state(state));
        }
    }

    /// Takes the code off the screen, and cancels a pairing under way.
    pub fn close(&self) {
        self.seq.set(self.seq.get() + 1);
        *self.pairing.borrow_mut() = None;
        self.ctx.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_qr_kind(QrKind::None);
            app.set_qr_state(QrState::Loading);
            app.set_qr_code(Image::default());
            app.set_qr_user_code("".into());
            app.set_qr_address("".into());
        });
    }
}
