//! The focus order, read from the window's element tree: every element with an
//! accessible role and label, in the order the markup declares them, within the sheet
//! on top if one is open. Slint's accessibility reaches only its winit and Qt
//! backends, not the image's DRM display, so the kiosk walks the tree itself (through
//! Slint's element API, the one its tests use).

use std::ops::ControlFlow;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use slint::ComponentHandle;
use slint::platform::WindowEvent;

use super::words::{Item, Role};
use crate::kiosk::ui::AppWindow;

/// Sheets over the screen, topmost first (their element ids): while one shows, only
/// what is on it is in the focus order.
pub const MODALS: [&str; 4] = ["idle-overlay", "panel-overlay", "qr-overlay", "scan-overlay"];

/// What is in the focus order now.
pub struct Scope {
    /// The sheet on top, if any (one of [`MODALS`]).
    pub modal: Option<&'static str>,
    /// Its label, when it has one (the sheet's title).
    pub title: String,
    pub items: Vec<Item>,
    /// The message showing for a moment under the header, if any.
    pub toast: String,
    handles: Vec<ElementHandle>,
}

impl Scope {
    pub fn handle(&self, index: usize) -> Option<&ElementHandle> {
        self.handles.get(index)
    }

    /// The item under a finger: the smallest one holding the point.
    pub fn at(&self, x: f32, y: f32) -> Option<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, i)| contains(i.rect, [x, y, 0.0, 0.0]))
            .min_by(|(_, a), (_, b)| area(a.rect).total_cmp(&area(b.rect)))
            .map(|(n, _)| n)
    }

    /// Where `item` is now (the tree was read again): the same label and role,
    /// nearest to where it was.
    /// A button whose words changed with its state ("Add to my wishlist", then "Saved
    /// to my wishlist") is the one of the same role where it was.
    pub fn find(&self, item: &Item) -> Option<usize> {
        let nearest = |same_label: bool| {
            self.items
                .iter()
                .enumerate()
                .filter(|(_, i)| i.role == item.role && (!same_label || i.label == item.label))
                .map(|(n, i)| (n, distance(i.rect, item.rect)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
        };
        match nearest(true) {
            Some((n, _)) => Some(n),
            None => nearest(false).filter(|(_, d)| *d <= 2.0).map(|(n, _)| n),
        }
    }
}

fn area(r: [f32; 4]) -> f32 {
    r[2] * r[3]
}

fn distance(a: [f32; 4], b: [f32; 4]) -> f32 {
    (a[0] - b[0]).abs() + (a[1] - b[1]).abs()
}

/// Whether `outer` holds `inner` (to a pixel).
fn contains(outer: [f32; 4], inner: [f32; 4]) -> bool {
    inner[0] >= outer[0] - 1.0
        && inner[1] >= outer[1] - 1.0
        && inner[0] + inner[2] <= outer[0] + outer[2] + 1.0
        && inner[1] + inner[3] <= outer[1] + outer[3] + 1.0
}

fn rect(e: &ElementHandle) -> [f32; 4] {
    let (p, s) = (e.absolute_position(), e.size());
    [p.x, p.y, s.width, s.height]
}

fn id_ends(e: &ElementHandle, suffix: &str) -> bool {
    e.id().is_some_and(|id| id.ends_with(suffix))
}

fn role(e: &ElementHandle) -> Option<Role> {
    Some(match e.accessible_role()? {
        AccessibleRole::Button | AccessibleRole::ListItem | AccessibleRole::RadioButton => Role::Button,
        AccessibleRole::Switch => Role::Switch,
        AccessibleRole::Checkbox => Role::Checkbox,
        AccessibleRole::TextInput | AccessibleRole::Spinbox | AccessibleRole::Combobox => Role::TextField,
        AccessibleRole::Tab => Role::Tab,
        AccessibleRole::Image => Role::Image,
        AccessibleRole::Text => Role::Text,
        _ => return None,
    })
}

/// The focus order of `window` as it is now.
pub fn read(window: &AppWindow) -> Scope {
    let all = ElementQuery::from_root(window).match_descendants().find_all();
    let modal = MODALS
        .iter()
        .find_map(|name| all.iter().find(|e| id_ends(e, name)).map(|e| (*name, e.clone())));
    let private: Vec<[f32; 4]> = all.iter().filter(|e| id_ends(e, "private")).map(rect).collect();
    let toast = all
        .iter()
        .find(|e| id_ends(e, "toast-overlay"))
        .and_then(ElementHandle::accessible_label)
        .map(|l| l.to_string())
        .unwrap_or_default();
    let candidates = match &modal {
        Some((_, sheet)) => sheet.query_descendants().find_all(),
        None => all,
    };
    let mut scope = Scope {
        modal: modal.as_ref().map(|(name, _)| *name),
        title: String::new(),
        items: Vec::new(),
        toast,
        handles: Vec::new(),
    };
    for e in candidates {
        if scope.title.is_empty()
            && scope.modal.is_some()
            && e.accessible_role() == Some(AccessibleRole::Groupbox)
            && let Some(label) = e.accessible_label()
        {
            scope.title = label.to_string();
        }
        // `-hidden`: there for someone who knows (the staff corner), not in the order.
        if id_ends(&e, "hidden") {
            continue;
        }
        let Some(role) = role(&e) else { continue };
        let label = e.accessible_label().map(|l| l.to_string()).unwrap_or_default();
        let r = rect(&e);
        if label.trim().is_empty() && !role.acts() || r[2] <= 0.0 || r[3] <= 0.0 || e.computed_opacity() < 0.05 {
            continue;
        }
        // A text or a picture inside a button is the button's; the same words twice
        // (a toast and its text) are said once; an element inherited through a
        // component is reported once per level.
        let covered = scope.items.iter().any(|k| {
            (k.rect == r && k.label == label)
                || (!role.acts() && contains(k.rect, r) && (k.role.acts() || k.label == label))
        });
        if covered {
            continue;
        }
        let item = Item {
            label,
            role,
            description: e.accessible_description().map(|d| d.to_string()).unwrap_or_default(),
            value: e.accessible_value().map(|v| v.to_string()).unwrap_or_default(),
            checked: e
                .accessible_checkable()
                .unwrap_or(false)
                .then(|| e.accessible_checked().unwrap_or(false)),
            enabled: e.accessible_enabled().unwrap_or(true),
            private: private.iter().any(|p| contains(*p, r)),
            rect: r,
        };
        scope.items.push(item);
        scope.handles.push(e);
    }
    scope
}

/// Scrolls what holds `target` so that it, and what comes after it, is in view: when
/// it lies outside the middle half of a scrolling area, that area is scrolled to centre
/// it. Slint reports only elements its clips show, so keeping the focus in the middle
/// is what brings the next ones into the tree. Returns whether it scrolled (scrolling
/// is animated: the element settles some 200 ms later).
pub fn bring_into_view(window: &AppWindow, target: &ElementHandle) -> bool {
    let t = rect(target);
    let label = target.accessible_label().unwrap_or_default();
    let same = move |e: &ElementHandle| rect(e) == t && e.accessible_label().unwrap_or_default() == label;
    let flickables = ElementQuery::from_root(window)
        .match_descendants()
        .match_predicate(|e| {
            e.type_name().as_deref() == Some("Flickable")
                || e.bases().is_some_and(|mut b| b.any(|base| base == "Flickable"))
        })
        .find_all();
    let size = window.window().size().to_logical(window.window().scale_factor());
    // The areas holding the target, innermost first, as far as the window shows them.
    let mut holders: Vec<[f32; 4]> = flickables
        .into_iter()
        .filter(|f| {
            let same = same.clone();
            f.visit_descendants(move |d| {
                if same(&d) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .is_some()
        })
        .map(|f| {
            let r = rect(&f);
            let (left, top) = (r[0].max(0.0), r[1].max(0.0));
            let (right, bottom) = ((r[0] + r[2]).min(size.width), (r[1] + r[3]).min(size.height));
            [left, top, (right - left).max(0.0), (bottom - top).max(0.0)]
        })
        .collect();
    holders.sort_by(|a, b| area(*a).total_cmp(&area(*b)));
    // How far to move content along one axis so the target sits in the middle of
    // `view`, if it is outside the middle half.
    let shift = |start: f32, length: f32, view_start: f32, view_length: f32| {
        let (lo, hi) = (view_start + view_length * 0.25, view_start + view_length * 0.75);
        if start < lo || start + length > hi {
            (view_start + view_length / 2.0) - (start + length / 2.0)
        } else {
            0.0
        }
    };
    // A row that scrolls sideways is about as tall as what it holds: it scrolls x,
    // the area around it y.
    let for_x = holders.iter().find(|h| h[2] > t[2] * 1.5);
    let for_y = holders.iter().find(|h| h[3] > t[3] * 1.5);
    let mut scrolled = false;
    let mut scroll = |view: &[f32; 4], dx: f32, dy: f32| {
        if dx == 0.0 && dy == 0.0 {
            return;
        }
        // At the target's place, brought inside the area: the event goes to the
        // areas under that point, innermost first, each taking the axis it scrolls.
        // (`max` then `min`: an area a pixel tall would make `clamp` panic.)
        let x = (t[0] + t[2] / 2.0).max(view[0] + 1.0).min(view[0] + view[2] - 1.0);
        let y = (t[1] + t[3] / 2.0).max(view[1] + 1.0).min(view[1] + view[3] - 1.0);
        window.window().dispatch_event(WindowEvent::PointerScrolled {
            position: slint::LogicalPosition::new(x, y),
            delta_x: dx,
            delta_y: dy,
        });
        scrolled = true;
    };
    if let Some(view) = for_x {
        scroll(view, shift(t[0], t[2], view[0], view[2]), 0.0);
    }
    if let Some(view) = for_y {
        scroll(view, 0.0, shift(t[1], t[3], view[1], view[3]));
    }
    scrolled
}
