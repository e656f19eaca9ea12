//! The accessibility mode: contrast computed from the theme, touch targets and the reach
//! layout read from the rendered element tree, what speech says on each screen and along
//! a keypad-only journey in both languages, and one real synthesis to a WAV file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, SharedString};
use vitrine::brand::Rgb;
use vitrine::kiosk::a11y::{tree, words::Role};
use vitrine::kiosk::headless::Headless;
use vitrine::kiosk::snapshot::{A11y, Request};
use vitrine::kiosk::ui::{A11yOption, AppAdapter, HomeAdapter, Palette, Screen, Theme};
use vitrine::speech::output::{Recorder, Wav};
use vitrine::speech::{Lang, Speaker, Utterance, Voice};

use crate::ui::{SHOPPER_SCREENS, Ui, on_ui_thread};

fn rgb(c: slint::Color) -> Rgb {
    Rgb([c.red(), c.green(), c.blue()])
}

/// The text / background pairs the screens use, by the palette's names.
fn text_pairs(p: &Palette) -> Vec<(&'static str, slint::Color, &'static str, slint::Color)> {
    let mut pairs = Vec::new();
    let texts = [
        ("ink", p.ink),
        ("ink-soft", p.ink_soft),
        ("ink-faint", p.ink_faint),
        ("accent", p.accent),
        ("ok", p.ok),
        ("warn", p.warn),
        ("sold-out", p.sold_out),
    ];
    for (f, fc) in texts {
        for (b, bc) in [("paper", p.paper), ("paper-deep", p.paper_deep), ("card", p.card)] {
            pairs.push((f, fc, b, bc));
        }
    }
    // The stock box (ok-soft, warn-soft) and the saved heart's button (accent-soft).
    for (f, fc) in [
        ("ink", p.ink),
        ("ink-soft", p.ink_soft),
        ("ink-faint", p.ink_faint),
        ("ok", p.ok),
    ] {
        pairs.push((f, fc, "ok-soft", p.ok_soft));
    }
    for (f, fc) in [("ink", p.ink), ("ink-soft", p.ink_soft), ("warn", p.warn)] {
        pairs.push((f, fc, "warn-soft", p.warn_soft));
    }
    pairs.push(("accent", p.accent, "accent-soft", p.accent_soft));
    // Light text on primary buttons, toasts and the accent.
    for (b, bc) in [("ink", p.ink), ("ink-soft", p.ink_soft), ("accent", p.accent)] {
        pairs.push(("paper", p.paper, b, bc));
    }
    pairs
}

#[test]
fn every_text_reads_on_its_background_in_both_themes() {
    on_ui_thread(|| {
        let ui = Ui::start((1280, 800), "fr");
        let theme = ui.window().global::<Theme>();
        for (high, wanted) in [(false, 4.5), (true, 7.0)] {
            theme.set_high_contrast(high);
            let p = theme.get_palette();
            for (f, fc, b, bc) in text_pairs(&p) {
                let ratio = rgb(fc).contrast(rgb(bc));
                assert!(
                    ratio >= wanted,
                    "{f} on {b} reads at {ratio:.2}:1 in the {} theme; WCAG asks {wanted}:1",
                    if high { "high-contrast" } else { "default" }
                );
            }
            // Marks and outlines (WCAG 1.4.11): the focus ring, a button's outline, a
            // switch's track, the stock dots, against what they sit on.
            for (f, fc) in [("focus", p.focus), ("ink", p.ink), ("ok", p.ok), ("warn", p.warn)] {
                for (b, bc) in [("paper", p.paper), ("card", p.card)] {
                    let ratio = rgb(fc).contrast(rgb(bc));
                    assert!(ratio >= 3.0, "{f} on {b}: {ratio:.2}:1");
                }
            }
            if high {
                let ratio = rgb(p.line).contrast(rgb(p.paper));
                assert!(ratio >= 3.0, "lines in high contrast: {ratio:.2}:1");
            }
        }
        theme.set_high_contrast(false);
    });
}

fn request(screen: vitrine::kiosk::Screen, lang: &str, size: (u32, u32), a11y: Vec<A11y>) -> Request {
    Request {
        a11y,
        ..Request::new(screen, lang, size)
    }
}

/// Every control of every shopper screen, in every mode, is at least 44 × 44 px
/// (WCAG 2.5.8 asks 24; EN 301 549's closed functionality, a finger), has a label,
/// and in the reach layout lies in the band the mounting heights put between 800 and
/// 1100 mm; with the panel open too.
#[test]
fn controls_are_big_labelled_and_within_reach_in_every_mode() {
    on_ui_thread(|| {
        let db = crate::ui::demo_db();
        let modes: [(&str, Vec<A11y>); 5] = [
            ("default", vec![]),
            ("large text, high contrast", vec![A11y::LargeText, A11y::HighContrast]),
            ("reach", vec![A11y::Reach]),
            ("reach, panel", vec![A11y::Reach, A11y::Panel]),
            ("large text, panel", vec![A11y::LargeText, A11y::Panel]),
        ];
        for size in [(1080, 1920), (1280, 800)] {
            for (mode, settings) in &modes {
                for screen in SHOPPER_SCREENS {
                    let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
                    let h = Headless::new(&db, vitrine::demo::HOME_STORE, size, clock, None).unwrap();
                    vitrine::kiosk::snapshot::show(&h, &db, &request(screen, "en", size, settings.clone())).unwrap();
                    h.render().unwrap();
                    let context = format!("{screen:?} {}x{} {mode}", size.0, size.1);
                    let scope = tree::read(&h.kiosk.window);
                    let controls: Vec<_> = scope.items.iter().filter(|i| i.role.acts()).collect();
                    assert!(controls.len() >= 2, "{context}: no controls found");
                    let (w, hh) = (size.0 as f32, size.1 as f32);
                    let band_top = hh * 0.42;
                    for c in &controls {
                        let [x, y, cw, ch] = c.rect;
                        let on_screen = x >= -0.5 && y >= -0.5 && x + cw <= w + 0.5 && y + ch <= hh + 0.5;
                        if !on_screen {
                            continue;
                        }
                        assert!(!c.label.trim().is_empty(), "{context}: a {:?} without a label", c.role);
                        assert!(
                            cw >= 44.0 && ch >= 44.0,
                            "{context}: {:?} is {cw} × {ch} px, under 44 × 44",
                            c.label
                        );
                        if settings.contains(&A11y::Reach) && size.1 > size.0 {
                            assert!(
                                y >= band_top - 0.5,
                                "{context}: {:?} is at {y} px, above the reach band ({band_top} px)",
                                c.label
                            );
                        }
                    }
                    if settings.contains(&A11y::Panel) {
                        assert_eq!(scope.modal, Some("panel-overlay"), "{context}");
                        let switches = controls.iter().filter(|c| c.role == Role::Switch).count();
                        assert_eq!(switches, 5, "{context}: the panel's five settings");
                    }
                }
            }
        }
    });
}

/// The screens at 1.5× text, in both languages and the three sizes, and in the reach
/// layout of a portrait screen: no text runs past the window's edge or over another.
#[test]
fn larger_text_and_the_reach_layout_stay_inside_every_screen() {
    on_ui_thread(|| {
        let db = crate::ui::demo_db();
        let cases = [
            (
                "large text",
                vec![A11y::LargeText, A11y::HighContrast],
                &[(1080, 1920), (1920, 1080), (1280, 800)][..],
            ),
            ("reach", vec![A11y::Reach], &[(1080, 1920)][..]),
        ];
        for (mode, settings, sizes) in &cases {
            for lang in ["fr", "en"] {
                for &size in *sizes {
                    for screen in SHOPPER_SCREENS {
                        let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
                        let h = Headless::new(&db, vitrine::demo::HOME_STORE, size, clock, None).unwrap();
                        let request = request(screen, lang, size, settings.clone());
                        vitrine::kiosk::snapshot::show(&h, &db, &request).unwrap();
                        h.render().unwrap();
                        let ui = Ui { h };
                        ui.assert_texts_fit(&format!("{screen:?} {lang} {}x{} {mode}", size.0, size.1));
                    }
                }
            }
        }
    });
}

/// What each shopper screen says when speech comes on, in both languages: the hint,
/// then where the shopper is and what the screen holds.
#[test]
fn each_screen_says_where_the_shopper_is_in_both_languages() {
    on_ui_thread(|| {
        let db = crate::ui::demo_db();
        let expected: [(&str, [&str; 6]); 2] = [
            (
                "fr",
                [
                    "Bienvenue. Appuyez sur Entrée ou touchez deux fois pour commencer.",
                    "Accueil.",
                    "Chercher dans la boutique. robe.",
                    "Produits. ",
                    "Produit. ",
                    "Vos favoris. 3 éléments.",
                ],
            ),
            (
                "en",
                [
                    "Welcome. Press Enter or double tap to start.",
                    "Home.",
                    "Search the shop. dress.",
                    "Products. ",
                    "Product. ",
                    "Your wishlist. 3 items.",
                ],
            ),
        ];
        for (lang, says) in expected {
            for (screen, start) in SHOPPER_SCREENS.into_iter().zip(says) {
                let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
                let h = Headless::new(&db, vitrine::demo::HOME_STORE, (1080, 1920), clock, None).unwrap();
                vitrine::kiosk::snapshot::show(&h, &db, &request(screen, lang, (1080, 1920), vec![])).unwrap();
                let a11y = h.kiosk.shell.a11y().clone();
                a11y.use_output(|| Box::new(Recorder::new().0));
                a11y.set(A11yOption::Speech, true);
                let said = a11y.said();
                let context = format!("{screen:?} {lang}: {said:?}");
                let hint = if lang == "fr" { "Voix activée." } else { "Speech on." };
                assert!(said.starts_with(hint), "{context}");
                match screen {
                    // The category's name, then how many pieces it holds.
                    vitrine::kiosk::Screen::Results => {
                        let count = if lang == "fr" { " éléments." } else { " items." };
                        assert!(said.contains(start) && said.ends_with(count), "{context}");
                    }
                    // The product's name, then its price.
                    vitrine::kiosk::Screen::Product => {
                        let price = said.rsplit(". ").next().unwrap_or_default();
                        assert!(said.contains(start) && price.contains('€'), "{context}")
                    }
                    _ => assert!(said.ends_with(start), "{context}"),
                }
            }
        }
    });
}

fn press(ui: &Ui, key: Key) {
    let text = SharedString::from(key);
    ui.window()
        .window()
        .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    ui.window().window().dispatch_event(WindowEvent::KeyReleased { text });
}

/// Presses `key` and returns what was said after it (a new screen is announced once
/// its content has loaded).
fn hear(ui: &Ui, key: Key) -> String {
    let a11y = ui.h.kiosk.shell.a11y().clone();
    let before = a11y.utterances().len();
    press(ui, key);
    let quiet_from = Instant::now() + Duration::from_millis(700);
    ui.h.settle_until("speech", move || Instant::now() > quiet_from)
        .unwrap();
    a11y.utterances()[before.min(a11y.utterances().len())..].join(" | ")
}

/// Moves with the arrow key until the focused element's label satisfies `wanted`.
fn move_to(ui: &Ui, key: Key, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let a11y = ui.h.kiosk.shell.a11y().clone();
    move_until(ui, key, what, move |_| {
        a11y.focused().is_some_and(|item| wanted(&item.label))
    })
}

/// Moves with the arrow key until what was said satisfies `wanted`; returns it.
fn move_until(ui: &Ui, key: Key, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let a11y = ui.h.kiosk.shell.a11y().clone();
    for _ in 0..80 {
        press(ui, key);
        ui.h.settle().unwrap();
        // A scroll to bring the focus to the middle brings what follows into view.
        let settling = a11y.clone();
        ui.h.settle_until("the scroll", move || !settling.scrolling()).unwrap();
        if wanted(&a11y.said()) {
            return a11y.said();
        }
    }
    panic!("never reached {what}; last said {:?}", a11y.said());
}

fn silent(ui: &Ui) {
    ui.h.kiosk.shell.a11y().use_output(|| Box::new(Recorder::new().0));
}

/// A blind shopper's visit with the keypad alone, in French then in English: the
/// keypad's first key starts speech; browse, open a product, hear its price, save it,
/// open the list (its lines said only into headphones), take it.
#[test]
fn a_keypad_alone_goes_from_the_attract_loop_to_taking_the_list() {
    struct Say {
        lang: &'static str,
        welcome: &'static str,
        home: &'static str,
        product: &'static str,
        save: &'static str,
        saved: &'static str,
        wishlist: &'static str,
        list: &'static str,
        private: &'static str,
        take: &'static str,
        code: &'static str,
    }
    for say in [
        Say {
            lang: "fr",
            welcome: "Voix activée. Les flèches ou un glissement passent d’un élément à l’autre ; Entrée ou une double touche choisit. Bienvenue.",
            home: "Accueil.",
            product: "Produit.",
            save: "Ajouter à mes favoris, bouton",
            saved: "Ajouté à vos favoris",
            wishlist: "Mes favoris, bouton",
            list: "Vos favoris. 1 élément.",
            private: "Branchez un casque pour entendre ceci.",
            take: "Emporter ma liste, bouton",
            code: "Emportez votre liste.",
        },
        Say {
            lang: "en",
            welcome: "Speech on. Arrow keys or a swipe move from item to item; Enter or a double tap chooses. Welcome.",
            home: "Home.",
            product: "Product.",
            save: "Add to my wishlist, button",
            saved: "Saved to your wishlist",
            wishlist: "My wishlist, button",
            list: "Your wishlist. 1 item.",
            private: "Plug in headphones to hear this.",
            take: "Take my list, button",
            code: "Take your list with you.",
        },
    ] {
        // The hub's settings name a list page, so "take my list" shows.
        let dir = tempfile::tempdir().unwrap();
        let db = vitrine::kiosk::demo_catalog(dir.path()).unwrap();
        let settings = vitrine::protocol::KioskSettings {
            list_url: Some("https://shop.example/list".into()),
            ..Default::default()
        };
        let mut conn = rusqlite::Connection::open(&db).unwrap();
        vitrine::trust::save_settings(&mut conn, &settings, jiff::Timestamp::now()).unwrap();
        drop(conn);
        on_ui_thread(move || {
            let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
            let ui = Ui::on(&db, (1080, 1920), say.lang, clock);
            silent(&ui);
            ui.wait_for("the hub's settings", |w| w.global::<AppAdapter>().get_can_take_list());
            let heard = hear(&ui, Key::DownArrow);
            assert!(heard.starts_with(say.welcome), "{heard:?}");
            let heard = hear(&ui, Key::Return);
            assert_eq!(ui.screen(), Screen::Home);
            assert_eq!(heard, say.home);

            // Down through the home screen to the first featured piece.
            let piece = ui.window().global::<HomeAdapter>().get_featured();
            let first = slint::Model::row_data(&piece, 0).unwrap().title.to_string();
            let card = move_to(&ui, Key::DownArrow, "the first featured piece", |l| {
                l.starts_with(&first)
            });
            assert!(card.starts_with(&first) && card.contains('€'), "{card:?}");
            let heard = hear(&ui, Key::Return);
            assert_eq!(ui.screen(), Screen::Product);
            assert!(
                heard.starts_with(&format!("{} {first}.", say.product)) && heard.contains('€'),
                "{heard:?}"
            );

            // The price and the stock are read on the way down to "save".
            let save = move_to(&ui, Key::DownArrow, "save", |l| say.save.starts_with(l));
            assert!(save.starts_with(say.save), "{save:?}");
            let heard = hear(&ui, Key::Return);
            assert!(heard.contains(say.saved), "{heard:?}");

            // Up to the header's wishlist button, and in.
            let button = move_to(&ui, Key::UpArrow, "my wishlist", |l| say.wishlist.starts_with(l));
            assert!(button.starts_with(say.wishlist), "{button:?}");
            let heard = hear(&ui, Key::Return);
            assert_eq!(ui.screen(), Screen::Wishlist);
            assert_eq!(heard, say.list);
            // The line is the shopper's own: not through the loudspeaker...
            let private = say.private;
            move_until(&ui, Key::DownArrow, "the saved line", |said| said == private);
            let line = hear(&ui, Key::Insert);
            assert_eq!(line, say.private, "a repeat says the same");
            // ...but into headphones.
            ui.h.kiosk.shell.a11y().set_headphones(true);
            let line = hear(&ui, Key::Insert);
            assert!(line.starts_with(&first), "{line:?}");

            // Above the lines on a portrait screen.
            let take = move_to(&ui, Key::UpArrow, "take my list", |l| say.take.starts_with(l));
            assert!(take.starts_with(say.take), "{take:?}");
            let heard = hear(&ui, Key::Return);
            assert!(heard.contains(say.code), "the sheet is read: {heard:?}");
            // Escape closes the sheet; the end of the visit turns everything off.
            hear(&ui, Key::Escape);
            assert_eq!(
                ui.window().global::<AppAdapter>().get_qr_kind(),
                vitrine::kiosk::ui::QrKind::None
            );
            ui.h.kiosk.shell.end_session(vitrine::protocol::measure::VisitEnd::Done);
            ui.h.settle().unwrap();
            assert_eq!(ui.h.kiosk.shell.a11y().modes(), Default::default());
            assert!(ui.h.kiosk.shell.a11y().utterances().is_empty(), "nothing said stays");
        });
    }
}

/// Each setting of the panel, through its switch: the theme's variants, the doubled
/// times, the reach layout; a visit's end puts them all back.
#[test]
fn the_panel_turns_each_setting_on_and_the_visit_end_turns_them_off() {
    on_ui_thread(|| {
        let ui = Ui::start((1080, 1920), "en");
        ui.tap("Touch to start");
        let base = ui.h.kiosk.shell.visit_limits();
        ui.tap("Accessibility");
        for setting in ["Larger text", "High contrast", "Controls within reach", "More time"] {
            ui.tap(setting);
        }
        let theme = ui.window().global::<Theme>();
        assert!(theme.get_high_contrast());
        assert_eq!(theme.get_text_scale(), 1.5);
        let modes = ui.h.kiosk.shell.a11y().modes();
        assert!(modes.reach && modes.more_time && modes.large_text && !modes.speech);
        let longer = ui.h.kiosk.shell.visit_limits();
        assert_eq!(longer.idle, base.idle * 2);
        assert_eq!(longer.warning, base.warning * 2);
        // Speech, then a notch faster and louder: with speech on, a tap says, a double
        // tap chooses.
        silent(&ui);
        ui.tap("Speech");
        for button in ["Faster", "Louder"] {
            ui.tap(button);
            ui.tap(button);
        }
        let adapter = ui.window().global::<vitrine::kiosk::ui::A11yAdapter>();
        assert_eq!((adapter.get_rate_steps(), adapter.get_volume_steps()), (1, 1));
        // The next shopper finds the panel closed, and everything off.
        ui.h.kiosk.shell.end_session(vitrine::protocol::measure::VisitEnd::Idle);
        ui.h.settle().unwrap();
        assert!(!adapter.get_panel_open());
        assert!(!theme.get_high_contrast());
        assert_eq!(theme.get_text_scale(), 1.0);
        assert_eq!(
            (adapter.get_rate_steps(), adapter.get_volume_steps()),
            (0, 0),
            "speed and volume reset"
        );
        assert!(!adapter.get_speech());
        assert_eq!(ui.h.kiosk.shell.visit_limits(), base);
    });
}

/// The idle warning is spoken when it comes, and "I'm still here" can be chosen from
/// the keypad as often as wanted (WCAG 2.2.1 asks for ten times at least).
#[test]
fn the_idle_warning_is_spoken_and_extends_time_again_and_again() {
    on_ui_thread(|| {
        let ui = Ui::start((1280, 800), "en");
        silent(&ui);
        ui.tap("Touch to start");
        ui.h.kiosk.shell.a11y().set(A11yOption::Speech, true);
        ui.h.kiosk.shell.set_limits(vitrine::kiosk::session::Limits {
            idle: Duration::from_millis(300),
            warning: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        });
        ui.h.kiosk.shell.begin_visit();
        // On a product's sheet: Escape on the warning means "still here", not "back".
        let group = slint::Model::row_data(&ui.window().global::<HomeAdapter>().get_featured(), 0)
            .unwrap()
            .id
            .to_string();
        ui.h.kiosk
            .shell
            .open_product(&group, vitrine::protocol::measure::ViewSource::Featured);
        ui.h.settle().unwrap();
        for round in 0..10 {
            let a11y = ui.h.kiosk.shell.a11y().clone();
            let before = a11y.utterances().len();
            ui.wait_for("the idle warning", |w| w.global::<AppAdapter>().get_idle_seconds() > 0);
            let spoken = a11y.clone();
            ui.h.settle_until("the warning said", move || {
                spoken.utterances()[before..]
                    .iter()
                    .any(|u| u.starts_with("Are you still there?"))
            })
            .unwrap();
            press(&ui, Key::Escape);
            ui.h.settle().unwrap();
            assert_eq!(
                ui.window().global::<AppAdapter>().get_idle_seconds(),
                0,
                "round {round}: still here"
            );
            assert_eq!(
                ui.screen(),
                Screen::Product,
                "round {round}: the visit goes on, on its sheet"
            );
        }
    });
}

/// espeak-ng for real, into a WAV file: speech in both languages, not silence.
#[test]
fn speech_is_synthesised_to_audio_that_is_not_silent() {
    let dir = tempfile::tempdir().unwrap();
    for (lang, text) in [
        (
            Lang::French,
            "Robe Lina, cent vingt-neuf euros, en stock dans cette boutique.",
        ),
        (
            Lang::English,
            "Lina dress, one hundred and twenty-nine euros, in stock in this shop.",
        ),
    ] {
        let path = dir.path().join(format!("{lang:?}.wav"));
        let speaker = Speaker::start(Default::default(), Box::new(Wav::create(&path))).unwrap();
        speaker.say(Utterance {
            text: text.to_owned(),
            lang,
            voice: Voice::default(),
        });
        // Waits for the utterance to be written whole, and the file finished.
        speaker.finish();
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let seconds = samples.len() as f64 / f64::from(spec.sample_rate);
        let rms = (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt();
        assert!(seconds > 1.5, "{lang:?}: {seconds:.2} s of audio");
        assert!(rms > 500.0, "{lang:?}: RMS {rms:.0}, silence?");
    }
}

/// Staff's keypad is never spoken: a key there does not turn speech on, and opening
/// the keypad turns off what a shopper left on.
#[test]
fn the_staff_keypad_is_never_spoken() {
    on_ui_thread(|| {
        let ui = Ui::start((1280, 800), "en");
        silent(&ui);
        press(&ui, Key::DownArrow);
        assert!(ui.h.kiosk.shell.a11y().modes().speech, "a shopper's first key");
        ui.h.kiosk.shell.open_keypad(None);
        ui.h.settle().unwrap();
        assert_eq!(ui.screen(), Screen::StaffPin);
        assert!(!ui.h.kiosk.shell.a11y().modes().speech);
        press(&ui, Key::DownArrow);
        assert!(!ui.h.kiosk.shell.a11y().modes().speech, "not from the keypad's screen");
        assert!(ui.h.kiosk.shell.a11y().utterances().is_empty());
    });
}
