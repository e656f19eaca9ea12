//! What changed on screen, said: a new screen or sheet once its content has loaded,
//! messages, the idle countdown, the focused element's new state.

use std::time::Instant;

use slint::{ComponentHandle, SharedString};

use super::{A11y, ARRIVAL_WAIT, tree};
use crate::kiosk::ui::{
    A11yAdapter, A11yWords, AppAdapter, AppWindow, Notice, ProductAdapter, QrKind, ResultsAdapter, Screen,
    SearchAdapter,
};

/// What is on screen, as far as speech cares: a change is announced.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Context {
    screen: Screen,
    modal: Option<&'static str>,
    lang: SharedString,
}

impl A11y {
    /// Every [`POLL`] while speech is on: a new screen or sheet, a message, the idle
    /// countdown, the focused element's new state or place.
    pub fn tick(&self, now: Instant) {
        if !self.modes().speech {
            return;
        }
        let Some(window) = self.ctx.window.upgrade() else {
            return;
        };
        let app = window.global::<AppAdapter>();
        let idle = app.get_idle_seconds();
        let context = context(&window);
        let notice = app.get_notice();
        let changed = self.state.borrow().context.as_ref() != Some(&context);
        if changed {
            let mut state = self.state.borrow_mut();
            state.context = Some(context);
            state.arriving = Some(now);
            state.focused = None;
            state.notice = Some(notice);
            state.idle_seconds = idle;
        }
        let arriving = self.state.borrow().arriving;
        if let Some(since) = arriving {
            // The content first (a product's sheet loads on the catalog thread).
            if self.ctx.busy() && now.saturating_duration_since(since) < ARRIVAL_WAIT {
                return;
            }
            self.state.borrow_mut().arriving = None;
            self.show();
            self.announce(&window);
            return;
        }
        let old_notice = self.state.borrow_mut().notice.replace(notice);
        if old_notice != Some(notice) && notice != Notice::None {
            let scope = tree::read(&window);
            if !scope.toast.is_empty() {
                // It says what the tap did ("Saved..."): the focused button's new
                // state is not said over it.
                self.state.borrow_mut().follow_until = None;
                self.say(&scope.toast);
                return;
            }
        }
        let old_idle = std::mem::replace(&mut self.state.borrow_mut().idle_seconds, idle);
        if idle > 0 && idle != old_idle && (idle % 10 == 0 || idle <= 5) {
            self.say(&window.global::<A11yWords>().invoke_seconds(idle));
            return;
        }
        let follow = self.state.borrow().follow_until.is_some_and(|t| now < t);
        if follow {
            let scope = tree::read(&window);
            let focused = self.state.borrow().focused.clone();
            if let Some((old, n)) = focused.and_then(|f| scope.find(&f).map(|n| (f, n))) {
                let item = scope.items[n].clone();
                self.state.borrow_mut().focused = Some(item.clone());
                self.show();
                if item.checked != old.checked || item.label != old.label {
                    self.say_item(&item);
                }
            }
        }
    }

    /// A new screen or sheet: its name and what it holds, then the focus waits at its
    /// start.
    pub(super) fn announce(&self, window: &AppWindow) {
        let text = self.announcement(window);
        self.say(&text);
    }

    pub(super) fn announcement(&self, window: &AppWindow) -> String {
        let scope = tree::read(window);
        let words = window.global::<A11yWords>();
        if scope.modal.is_some() {
            // A sheet is read whole: its title and its words (not its buttons).
            let mut parts = vec![scope.title.clone()];
            parts.extend(
                scope
                    .items
                    .iter()
                    .filter(|i| !i.role.acts() && i.label != scope.title)
                    // The sign-in code: only into headphones, as the focused item.
                    .filter(|i| !i.private || self.headphones())
                    .map(|i| i.label.clone()),
            );
            join(&parts)
        } else {
            let app = window.global::<AppAdapter>();
            match app.get_screen() {
                Screen::Attract => words.get_attract().to_string(),
                Screen::Home => join(&[words.get_home().to_string()]),
                Screen::Search => {
                    let search = window.global::<SearchAdapter>();
                    join(&[words.get_search().to_string(), search.get_query().to_string()])
                }
                Screen::Results => {
                    let results = window.global::<ResultsAdapter>();
                    join(&[
                        words.get_results().to_string(),
                        results.get_title().to_string(),
                        words.invoke_items(results.get_total()).to_string(),
                    ])
                }
                Screen::Product => {
                    let product = window.global::<ProductAdapter>();
                    let price = if product.get_sale_price().is_empty() {
                        product.get_price()
                    } else {
                        product.get_sale_price()
                    };
                    join(&[
                        words.get_product().to_string(),
                        product.get_title().to_string(),
                        price.to_string(),
                    ])
                }
                Screen::Wishlist => join(&[
                    words.get_wishlist().to_string(),
                    words.invoke_items(app.get_wishlist_count()).to_string(),
                ]),
                _ => scope.items.first().map(|i| i.label.clone()).unwrap_or_default(),
            }
        }
    }
}

/// The screen and the sheet on top of it.
pub(super) fn context(window: &AppWindow) -> Context {
    let app = window.global::<AppAdapter>();
    let modal = if app.get_idle_seconds() > 0 && app.get_screen() != Screen::Attract {
        Some("idle-overlay")
    } else if window.global::<A11yAdapter>().get_panel_open() {
        Some("panel-overlay")
    } else if app.get_qr_kind() != QrKind::None {
        Some("qr-overlay")
    } else if app.get_scan_open() {
        Some("scan-overlay")
    } else {
        None
    };
    Context {
        screen: app.get_screen(),
        modal,
        lang: app.get_lang(),
    }
}

/// Parts of a sentence, the empty ones left out, each ended as a sentence.
fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.ends_with(['.', '!', '?', ':']) {
                p.to_owned()
            } else {
                format!("{p}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn sentences_end_once() {
        let parts = [
            "Produit".to_owned(),
            String::new(),
            "52,00 €".to_owned(),
            "Là ?".to_owned(),
        ];
        assert_eq!(join(&parts), "Produit. 52,00 €. Là ?");
    }
}
