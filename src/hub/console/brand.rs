//! The chain's brand: every account reads it, admins change it. A preview drawn as inline
//! SVG (the CSP allows no inline style; SVG's `fill` is an attribute, not a style), the
//! contrast ratios the kiosk's text gets on it, and the form: name, colours, type pair,
//! welcome lines, logo, the brand's own fonts. A brand fixed in `hub.toml [brand]` is
//! shown and cannot be changed here. Kiosks take the brand with their settings, at their
//! next pull.

use axum::extract::multipart::Field;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use maud::{Markup, html};

use super::page::{ConsoleError, Ctx, Flash, Lang, tr};
use crate::brand::{ColourError, INK, INK_SOFT, Rgb, Scheme, TEXT};
use crate::hub::accounts::Role;
use crate::hub::admin;
use crate::hub::api::AppState;
use crate::hub::brand::{self as hub_brand, Branding, BrandingError, FontRole};
use crate::protocol::brand::{
    Brand, BrandError, DEFAULT_ACCENT, DEFAULT_BACKGROUND, LogoFormat, MAX_FAMILY_CHARS, MAX_FONT_BYTES,
    MAX_LOGO_BYTES, MAX_LOGO_SIDE, MAX_NAME_CHARS, MAX_WELCOME_CHARS, TypePair,
};

const PATH: &str = "/console/brand";
const LOGO: &str = "/console/brand/logo";
/// The most a text field of the form is read to: ample for 120 characters of any script.
const TEXT_BYTES: usize = 1024;
/// The most the brand form's body may be (its route's own limit, over the API's): two
/// fonts and a logo at their largest, with room for the rest.
pub const MAX_FORM_BYTES: usize = 6 * 1024 * 1024;
const _: () = assert!(MAX_FORM_BYTES > 2 * (MAX_FONT_BYTES + 1) + MAX_LOGO_BYTES + 64 * 1024);
/// The brand's own fonts, in the form's order.
const ROLES: [FontRole; 2] = [FontRole::Titles, FontRole::Text];
/// An SVG logo opened on its own: no script, no outside resource, its own styles only.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";
const SERIF: &str = "'EB Garamond', Garamond, Georgia, serif";
const SANS: &str = "Inter, system-ui, sans-serif";

/// The form as written: from the current brand, or as sent when it was refused.
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    /// Each colour field's value, and whether the kiosk's own colour is asked instead.
    background: String,
    background_own: bool,
    accent: String,
    accent_own: bool,
    type_pair: TypePair,
    welcome_fr: String,
    welcome_en: String,
    remove_logo: bool,
    /// A logo file was sent (a browser does not keep it when the form comes back).
    new_logo: bool,
    remove_titles_font: bool,
    remove_text_font: bool,
    /// A font file was sent.
    new_font: bool,
}

impl Draft {
    fn of(brand: &Brand) -> Draft {
        let welcome = |lang: &str| brand.welcome.get(lang).cloned().unwrap_or_default();
        Draft {
            name: brand.name.clone(),
            background: brand
                .background
                .clone()
                .unwrap_or_else(|| DEFAULT_BACKGROUND.to_string()),
            background_own: brand.background.is_none(),
            accent: brand.accent.clone().unwrap_or_else(|| DEFAULT_ACCENT.to_string()),
            accent_own: brand.accent.is_none(),
            type_pair: brand.type_pair,
            welcome_fr: welcome("fr"),
            welcome_en: welcome("en"),
            ..Draft::default()
        }
    }

    /// Whether the brand's own font for `role` is to be removed.
    fn remove_font(&self, role: FontRole) -> bool {
        match role {
            FontRole::Titles => self.remove_titles_font,
            FontRole::Text => self.remove_text_font,
        }
    }

    /// The brand this asks for; its logo is [`Branding::new`]'s to name, its fonts
    /// [`Branding::set_font`]'s.
    fn brand(&self) -> Brand {
        let welcome = [("fr", &self.welcome_fr), ("en", &self.welcome_en)]
            .into_iter()
            .map(|(lang, words)| (lang.to_owned(), words.clone()))
            .collect();
        Brand {
            name: self.name.clone(),
            logo: None,
            background: (!self.background_own).then(|| self.background.trim().to_owned()),
            accent: (!self.accent_own).then(|| self.accent.trim().to_owned()),
            type_pair: self.type_pair,
            titles_font: None,
            text_font: None,
            welcome,
        }
    }
}

/// A contrast ratio as the page writes it, with one decimal: `6.9` (`6,9` in French).
fn shown_ratio(lang: Lang, ratio: f32) -> String {
    let shown = format!("{ratio:.1}");
    match lang {
        Lang::Fr => shown.replace('.', ","),
        Lang::En => shown,
    }
}

/// A brand's colour, or the kiosk's own when it sets none.
fn colour(text: Option<&str>, own: Rgb) -> Rgb {
    text.and_then(|t| t.parse().ok()).unwrap_or(own)
}

fn type_name(lang: Lang, pair: TypePair) -> String {
    match pair {
        TypePair::Classic => tr!(lang, "EB Garamond titles, Inter text"),
        TypePair::Modern => tr!(lang, "Inter throughout"),
    }
    .into_owned()
}

/// The brand's own font for `role`, by its family name, when it has one.
fn own_family(current: &Branding, role: FontRole) -> Option<&str> {
    let named = match role {
        FontRole::Titles => current.brand.titles_font.as_ref(),
        FontRole::Text => current.brand.text_font.as_ref(),
    };
    named
        .filter(|_| current.font(role).is_some())
        .map(|font| font.family.as_str())
}

/// A role's own font as the form shows it: "Titles: Fraunces".
fn font_now(lang: Lang, role: FontRole, family: &str) -> String {
    match role {
        FontRole::Titles => tr!(lang, "Titles: %{family}", family = family),
        FontRole::Text => tr!(lang, "Text: %{family}", family = family),
    }
    .into_owned()
}

/// A role's own font as the summary shows it, under the type pair.
fn font_fact(lang: Lang, role: FontRole, family: &str) -> String {
    match role {
        FontRole::Titles => tr!(lang, "Titles: %{family} (own font)", family = family),
        FontRole::Text => tr!(lang, "Text: %{family} (own font)", family = family),
    }
    .into_owned()
}

/// A role's form fields: its file field's id and name, and its remove box's name.
fn font_fields(role: FontRole) -> (&'static str, &'static str, &'static str) {
    match role {
        FontRole::Titles => ("titles-font", "titles_font", "remove_titles_font"),
        FontRole::Text => ("text-font", "text_font", "remove_text_font"),
    }
}

/// Why colours were refused: what fell short, by how much, and what to change.
fn colour_refusal(lang: Lang, e: &ColourError) -> String {
    let least = shown_ratio(lang, TEXT);
    match e {
        ColourError::Form => tr!(lang, "Write a colour as #rrggbb."),
        ColourError::DarkBackground { background, ratio } => tr!(lang, "The background %{colour} is too dark: grey text on it reads at %{ratio}:1, and at least %{least}:1 is needed. Choose a lighter background.", colour = background, ratio = shown_ratio(lang, *ratio), least = least),
        ColourError::FaintAccent { accent, background, ratio } => tr!(lang, "The accent %{colour} on %{background} reads at %{ratio}:1; sale prices and badges need at least %{least}:1. Choose a deeper accent.", colour = accent, background = background, ratio = shown_ratio(lang, *ratio), least = least),
    }
    .into_owned()
}

/// Why the brand was refused, as the page says it.
fn refusal(lang: Lang, e: &BrandingError) -> String {
    match e {
        BrandingError::LogoTooLarge(_) => tr!(lang, "The logo is larger than the %{kib} KiB accepted: an SVG, or a PNG a few hundred pixels wide, is enough.", kib = MAX_LOGO_BYTES / 1024),
        BrandingError::LogoFormat => tr!(lang, "The logo must be an SVG or PNG file."),
        BrandingError::LogoSize(w, h) => tr!(lang, "The logo is %{w}×%{h} pixels; at most %{max} on each side are accepted (kiosks show it at most 144 pixels high).", w = w, h = h, max = MAX_LOGO_SIDE),
        BrandingError::FontTooLarge(_) => tr!(lang, "A font file is at most %{mib} MiB.", mib = MAX_FONT_BYTES / (1024 * 1024)),
        BrandingError::FontFormat => tr!(lang, "A font must be a TrueType or OpenType file (.ttf or .otf; not WOFF)."),
        BrandingError::FontLicense => tr!(lang, "This font does not say it is under the SIL Open Font License: kiosks show only fonts the shop may embed. Choose an OFL font (Google Fonts has hundreds)."),
        BrandingError::LogoFilter => tr!(lang, "The SVG logo uses filters (blur, shadow, texture), which kiosks do not draw: flatten them in your design tool, or upload a PNG."),
        BrandingError::LogoText => tr!(lang, "The SVG logo has live text, which kiosks do not draw: convert its text to outlines (paths) in your design tool, or upload a PNG."),
        BrandingError::Brand(BrandError::Name) => tr!(lang, "The brand name is at most %{n} characters, on one line.", n = MAX_NAME_CHARS),
        BrandingError::Brand(BrandError::Font) => tr!(lang, "A font's family name is at most %{n} characters, on one line.", n = MAX_FAMILY_CHARS),
        BrandingError::Brand(BrandError::Welcome) => tr!(lang, "A welcome line is at most %{n} characters, on one line.", n = MAX_WELCOME_CHARS),
        BrandingError::Brand(BrandError::Language(code)) => tr!(lang, "Welcome lines are written in French or English, not in “%{code}”.", code = code),
        BrandingError::Brand(BrandError::Background(ColourError::Form)) => tr!(lang, "Write the background colour as #rrggbb."),
        BrandingError::Brand(BrandError::Accent(ColourError::Form)) => tr!(lang, "Write the accent colour as #rrggbb."),
        BrandingError::Brand(BrandError::Background(c) | BrandError::Accent(c) | BrandError::Contrast(c)) => {
            return colour_refusal(lang, c);
        }
    }
    .into_owned()
}

/// A small square of `colour`, beside its code.
fn swatch(colour: Rgb) -> Markup {
    html! {
        svg.swatch xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" aria-hidden="true" {
            rect width="16" height="16" rx="3" fill=(colour.to_string()) stroke="#1c1b1a" stroke-opacity="0.3" {}
        }
        " "
    }
}

/// A kiosk's attract screen and a product card, roughly, in the brand's colours and type.
fn preview(lang: Lang, current: &Branding, background: Rgb, accent: Rgb) -> Markup {
    let brand = &current.brand;
    let card = Scheme::new(background, accent).map_or(background, |s| s.card);
    let (titles, body) = match brand.type_pair {
        TypePair::Classic => (SERIF, SANS),
        TypePair::Modern => (SANS, SANS),
    };
    let name = if brand.name.is_empty() {
        tr!(lang, "Your shop's name").into_owned()
    } else {
        brand.name.clone()
    };
    let name_size = if name.chars().count() > 22 { "20" } else { "30" };
    let [paper, accent, ink, ink_soft, card] = [background, accent, INK, INK_SOFT, card].map(|c| c.to_string());
    // A kiosk wraps a long welcome line; the preview cuts it.
    let welcome = brand
        .welcome_in(lang.code())
        .map(|words| match words.char_indices().nth(60) {
            Some((at, _)) => format!("{}…", &words[..at]),
            None => words.to_owned(),
        });
    html! {
        figure.brand-preview {
            svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 200" role="img" aria-labelledby="brand-preview-title" {
                title id="brand-preview-title" { (tr!(lang, "How a kiosk shows the brand")) }
                rect width="480" height="200" fill=(paper) {}
                @if brand.logo.is_some() && current.logo.is_some() {
                    image href=(LOGO) x="24" y="18" width="220" height="52" preserveAspectRatio="xMinYMid meet" {}
                } @else {
                    text x="24" y="58" fill=(ink) font-family=(titles) font-size=(name_size) { (name) }
                }
                @if let Some(words) = &welcome {
                    text x="24" y="92" fill=(ink_soft) font-family=(body) font-size="14" { (words) }
                }
                rect x="24" y="108" width="432" height="72" rx="10" fill=(card) {}
                text x="44" y="138" fill=(ink) font-family=(titles) font-size="18" { (tr!(lang, "Linen dress")) }
                text x="44" y="162" fill=(ink_soft) font-family=(body) font-size="13" { (tr!(lang, "Sizes 36 to 44")) }
                text x="436" y="138" fill=(accent) font-family=(body) font-size="20" font-weight="700" text-anchor="end" { (tr!(lang, "€129.00")) }
                rect x="356" y="150" width="80" height="20" rx="10" fill=(accent) {}
                text x="396" y="164" fill=(paper) font-family=(body) font-size="11" font-weight="600" text-anchor="middle" { (tr!(lang, "New in")) }
            }
            figcaption.hint {
                (tr!(lang, "Roughly: kiosks draw the brand with their own fonts and layout."))
                @if ROLES.iter().any(|&role| own_family(current, role).is_some()) {
                    " " (tr!(lang, "The preview uses the type pair's fonts; kiosks show yours."))
                }
            }
        }
    }
}

/// A colour field with its “the kiosk's own” box.
fn colour_field(lang: Lang, name: &str, legend: &str, value: &str, own: bool, default: Rgb) -> Markup {
    let picked = value.parse::<Rgb>().unwrap_or(default).to_string();
    html! {
        fieldset {
            legend { (legend) }
            label for=(name) { (tr!(lang, "Colour")) }
            input id=(name) type="color" name=(name) value=(picked);
            label.check {
                input type="checkbox" name=(format!("{name}_own")) value="on" checked[own];
                " " (tr!(lang, "Use the kiosk's own colour (%{colour})", colour = default))
            }
        }
    }
}

/// The form that changes the brand (admins, when `hub.toml` does not fix it). Its file
/// fields come last (see [`set`]).
fn form(ctx: &Ctx, draft: &Draft, current: &Branding) -> Markup {
    let lang = ctx.lang;
    let has_logo = current.brand.logo.is_some() && current.logo.is_some();
    let own: Vec<(FontRole, &str)> = ROLES
        .into_iter()
        .filter_map(|role| own_family(current, role).map(|family| (role, family)))
        .collect();
    html! {
        form.card method="post" action=(PATH) enctype="multipart/form-data" {
            (ctx.token_field())
            label for="brand-name" { (tr!(lang, "Name")) }
            input id="brand-name" name="name" maxlength=(MAX_NAME_CHARS) value=(draft.name) autocomplete="off";
            p.hint { (tr!(lang, "Shown when there is no logo. Left empty, kiosks show the shop's name.")) }
            (colour_field(lang, "background", &tr!(lang, "Background"), &draft.background, draft.background_own, DEFAULT_BACKGROUND))
            (colour_field(lang, "accent", &tr!(lang, "Accent: sale prices, badges, the saved heart"), &draft.accent, draft.accent_own, DEFAULT_ACCENT))
            fieldset {
                legend { (tr!(lang, "Typefaces")) }
                @for pair in TypePair::ALL {
                    label.check {
                        input type="radio" name="type_pair" value=(pair.key()) checked[draft.type_pair == pair];
                        " " (type_name(lang, pair))
                    }
                }
            }
            label for="welcome-fr" { (tr!(lang, "Welcome line in French")) }
            input id="welcome-fr" name="welcome_fr" lang="fr" maxlength=(MAX_WELCOME_CHARS) value=(draft.welcome_fr);
            label for="welcome-en" { (tr!(lang, "Welcome line in English")) }
            input id="welcome-en" name="welcome_en" lang="en" maxlength=(MAX_WELCOME_CHARS) value=(draft.welcome_en);
            p.hint { (tr!(lang, "On the attract screen. When one is empty, kiosks show the other.")) }
            fieldset {
                legend { (tr!(lang, "Logo")) }
                @if has_logo {
                    label.check {
                        input type="checkbox" name="remove_logo" value="on" checked[draft.remove_logo];
                        " " (tr!(lang, "Remove the logo"))
                    }
                }
                label for="logo" { (tr!(lang, "A new logo: SVG or PNG, at most %{kib} KiB", kib = MAX_LOGO_BYTES / 1024)) }
                input id="logo" type="file" name="logo" accept=".svg,.png,image/svg+xml,image/png";
                @if draft.new_logo {
                    p.hint { (tr!(lang, "Choose the logo file again: a browser does not keep it.")) }
                } @else if has_logo {
                    p.hint { (tr!(lang, "Without a new file, the current logo stays.")) }
                }
            }
            fieldset {
                legend { (tr!(lang, "Fonts")) }
                p.hint { (tr!(lang, "Your own fonts: TrueType or OpenType files under the SIL Open Font License, at most %{mib} MiB each. They replace the type pair's.", mib = MAX_FONT_BYTES / (1024 * 1024))) }
                // The remove boxes before the files: a file that overruns the body leaves them read.
                @for (role, family) in &own {
                    @let (id, _, remove) = font_fields(*role);
                    @let now = format!("{id}-now");
                    p id=(now) { (font_now(lang, *role, family)) }
                    label.check {
                        input type="checkbox" name=(remove) value="on" checked[draft.remove_font(*role)] aria-describedby=(now);
                        " " (tr!(lang, "Remove this font"))
                    }
                }
                @for role in ROLES {
                    @let (id, name, _) = font_fields(role);
                    label for=(id) {
                        @match role {
                            FontRole::Titles => (tr!(lang, "A new font for titles")),
                            FontRole::Text => (tr!(lang, "A new font for text")),
                        }
                    }
                    input id=(id) type="file" name=(name) accept=".ttf,.otf,font/ttf,font/otf";
                }
                @if draft.new_font {
                    p.hint { (tr!(lang, "Choose the font files again: a browser does not keep them.")) }
                } @else if !own.is_empty() {
                    p.hint { (tr!(lang, "Without a new file, the current font stays.")) }
                }
            }
            button.primary type="submit" { (tr!(lang, "Save the brand")) }
        }
    }
}

/// The brand kiosks show: `hub.toml`'s, else the console's, else none.
async fn current(state: &AppState) -> Result<Branding, ConsoleError> {
    let fixed = state.brand.clone();
    Ok(state
        .store
        .read(move |c| hub_brand::current(c, fixed.as_deref()))
        .await?)
}

/// The page: the current brand, and the form with `draft` (what was sent, when refused
/// with `refused`: then the answer is 422).
async fn show(
    ctx: &Ctx,
    state: &AppState,
    draft: Option<Draft>,
    refused: Option<String>,
) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let current = current(state).await?;
    let brand = &current.brand;
    let background = colour(brand.background.as_deref(), DEFAULT_BACKGROUND);
    let accent = colour(brand.accent.as_deref(), DEFAULT_ACCENT);
    let own = |set: Option<&String>, default: Rgb| match set {
        Some(code) => code.clone(),
        None => tr!(lang, "the kiosk's own (%{colour})", colour = default).into_owned(),
    };
    let can_change = ctx.account.role == Role::Admin && state.brand.is_none();
    let draft = draft.unwrap_or_else(|| Draft::of(brand));
    let body = html! {
        @if state.brand.is_some() {
            p.flash.note { (tr!(lang, "This brand is set in the hub's configuration file (hub.toml); change it there.")) }
        }
        @if let Some(message) = &refused { p.flash.refused role="alert" { (message) } }
        p.hint { (tr!(lang, "Every kiosk of the chain shows this brand; they take a change at their next pull, within five minutes.")) }
        h2 { (tr!(lang, "Preview")) }
        (preview(lang, &current, background, accent))
        h2 { (tr!(lang, "Contrast")) }
        ul.ratios {
            li { (tr!(lang, "Grey text on the background: %{ratio}:1", ratio = shown_ratio(lang, INK_SOFT.contrast(background)))) }
            li { (tr!(lang, "Accent on the background: %{ratio}:1", ratio = shown_ratio(lang, accent.contrast(background)))) }
        }
        p.hint { (tr!(lang, "Text needs at least %{least}:1 to read well (WCAG 2.1 AA): the hub refuses colours below it.", least = shown_ratio(lang, TEXT))) }
        dl.facts {
            div { dt { (tr!(lang, "Name")) } dd {
                @if brand.name.is_empty() { (tr!(lang, "None: kiosks show the shop's name")) } @else { (brand.name) }
            } }
            div { dt { (tr!(lang, "Background")) } dd { (swatch(background)) (own(brand.background.as_ref(), DEFAULT_BACKGROUND)) } }
            div { dt { (tr!(lang, "Accent")) } dd { (swatch(accent)) (own(brand.accent.as_ref(), DEFAULT_ACCENT)) } }
            div {
                dt { (tr!(lang, "Typefaces")) }
                dd { (type_name(lang, brand.type_pair)) }
                @for role in ROLES {
                    @if let Some(family) = own_family(&current, role) { dd { (font_fact(lang, role, family)) } }
                }
            }
            div { dt { (tr!(lang, "Welcome line in French")) } dd lang="fr" { (brand.welcome.get("fr").map_or("—", String::as_str)) } }
            div { dt { (tr!(lang, "Welcome line in English")) } dd lang="en" { (brand.welcome.get("en").map_or("—", String::as_str)) } }
            div { dt { (tr!(lang, "Logo")) } dd {
                @match (&brand.logo, &current.logo) {
                    (Some(logo), Some(bytes)) => {
                        a href=(LOGO) { (if logo.format == LogoFormat::Svg { "SVG" } else { "PNG" }) }
                        " · " (tr!(lang, "%{kib} KiB", kib = bytes.len().div_ceil(1024)))
                    },
                    _ => (tr!(lang, "No logo")),
                }
            } }
        }
        @if can_change {
            h2 { (tr!(lang, "Change the brand")) }
            (form(ctx, &draft, &current))
        } @else if state.brand.is_none() {
            p.hint { (tr!(lang, "Only admins change the brand.")) }
        }
    };
    let mut response = ctx.render(&tr!(lang, "Brand"), body).await;
    if refused.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The brand, its preview and its contrast; the form for admins.
pub async fn page(ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    show(&ctx, &state, None, None).await
}

/// What a form field held.
enum Part {
    Whole(Vec<u8>),
    /// More than asked: read to its end (or the body's) and dropped.
    TooLarge,
    Broken,
}

/// A field's bytes, at most `max`.
async fn part(mut field: Field<'_>, max: usize) -> Part {
    let mut bytes = Vec::new();
    let mut over = false;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) if !over && bytes.len() + chunk.len() <= max => bytes.extend_from_slice(&chunk),
            Ok(Some(_)) => {
                over = true;
                bytes = Vec::new();
            }
            Ok(None) if over => return Part::TooLarge,
            Ok(None) => return Part::Whole(bytes),
            // The body's own limit cut it: it was too large all the same.
            Err(_) if over => return Part::TooLarge,
            Err(_) => return Part::Broken,
        }
    }
}

/// A short text field; `None` when it is longer than [`TEXT_BYTES`] or not UTF-8.
async fn text(field: Field<'_>) -> Option<String> {
    match part(field, TEXT_BYTES).await {
        Part::Whole(bytes) => String::from_utf8(bytes).ok(),
        Part::TooLarge | Part::Broken => None,
    }
}

/// A file of the form: the one sent, else none when it is to be removed, else the
/// current one.
fn chosen(sent: Option<Vec<u8>>, remove: bool, current: Option<&[u8]>) -> Option<Vec<u8>> {
    match sent {
        Some(bytes) => Some(bytes),
        None if remove => None,
        None => current.map(<[u8]>::to_vec),
    }
}

/// Saves the brand (admins). The form's token comes first, so nothing of a forged
/// request is read; the files come last (the logo, then the fonts), so a file too large
/// leaves the rest to show back.
pub async fn set(ctx: Ctx, State(state): State<AppState>, mut form: Multipart) -> Result<Response, ConsoleError> {
    let answer = save(&ctx, &state, &mut form).await;
    // A refusal comes before the body is read: read the rest (within the route's limit)
    // so that the browser, still sending, gets the answer rather than a reset connection.
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
    answer
}

async fn save(ctx: &Ctx, state: &AppState, form: &mut Multipart) -> Result<Response, ConsoleError> {
    ctx.admin()?;
    let lang = ctx.lang;
    let mut token_checked = false;
    let mut draft = Draft::default();
    let mut logo = None;
    let mut titles_font = None;
    let mut text_font = None;
    let mut refused: Option<BrandingError> = None;
    // A file was too large: the body's limit may have cut what follows it, and what was
    // read is shown back.
    let mut cut = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) if cut => break,
            Err(_) => return Err(ConsoleError::Csrf),
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "authenticity_token" {
            let token = text(field).await.ok_or(ConsoleError::Csrf)?;
            ctx.check(&token)?;
            token_checked = true;
            if state.brand.is_some() {
                let message = tr!(
                    lang,
                    "This brand is set in the hub's configuration file (hub.toml); change it there."
                );
                return Ok(ctx.redirect(PATH, Flash::Refused, message).await);
            }
            continue;
        }
        if !token_checked {
            return Err(ConsoleError::Csrf);
        }
        if matches!(name.as_str(), "logo" | "titles_font" | "text_font") {
            let (slot, new, max, too_large) = match name.as_str() {
                "logo" => (
                    &mut logo,
                    &mut draft.new_logo,
                    MAX_LOGO_BYTES,
                    BrandingError::LogoTooLarge(MAX_LOGO_BYTES + 1),
                ),
                "titles_font" => (
                    &mut titles_font,
                    &mut draft.new_font,
                    MAX_FONT_BYTES,
                    BrandingError::FontTooLarge(MAX_FONT_BYTES + 1),
                ),
                _ => (
                    &mut text_font,
                    &mut draft.new_font,
                    MAX_FONT_BYTES,
                    BrandingError::FontTooLarge(MAX_FONT_BYTES + 1),
                ),
            };
            match part(field, max).await {
                // No file chosen: the browser sends the field empty.
                Part::Whole(bytes) if bytes.is_empty() => {}
                Part::Whole(bytes) => {
                    *new = true;
                    *slot = Some(bytes);
                }
                Part::TooLarge => {
                    *new = true;
                    refused = Some(too_large);
                    cut = true;
                }
                Part::Broken if cut => break,
                Part::Broken => return Err(ConsoleError::Csrf),
            }
            continue;
        }
        match name.as_str() {
            "background_own" => draft.background_own = true,
            "accent_own" => draft.accent_own = true,
            "remove_logo" => draft.remove_logo = true,
            "remove_titles_font" => draft.remove_titles_font = true,
            "remove_text_font" => draft.remove_text_font = true,
            "type_pair" => {
                let key = text(field).await;
                draft.type_pair = key.as_deref().and_then(TypePair::from_key).unwrap_or_default();
            }
            "name" | "background" | "accent" | "welcome_fr" | "welcome_en" => {
                let (slot, too_long) = match name.as_str() {
                    "name" => (&mut draft.name, BrandError::Name),
                    "background" => (&mut draft.background, BrandError::Background(ColourError::Form)),
                    "accent" => (&mut draft.accent, BrandError::Accent(ColourError::Form)),
                    "welcome_fr" => (&mut draft.welcome_fr, BrandError::Welcome),
                    _ => (&mut draft.welcome_en, BrandError::Welcome),
                };
                match text(field).await {
                    Some(value) => *slot = value,
                    None if refused.is_none() => refused = Some(BrandingError::Brand(too_long)),
                    None => {}
                }
            }
            _ => {}
        }
    }
    if !token_checked {
        return Err(ConsoleError::Csrf);
    }
    if let Some(e) = refused {
        return show(ctx, state, Some(draft), Some(refusal(lang, &e))).await;
    }
    // No new file: the current one stays, unless it is to be removed.
    let now = current(state).await?;
    let logo = chosen(logo, draft.remove_logo, now.logo.as_deref());
    let mut branding = match Branding::new(draft.brand(), logo) {
        Ok(branding) => branding,
        Err(e) => return show(ctx, state, Some(draft), Some(refusal(lang, &e))).await,
    };
    for (role, sent) in [(FontRole::Titles, titles_font), (FontRole::Text, text_font)] {
        let file = chosen(sent, draft.remove_font(role), now.font(role).map(|bytes| &bytes[..]));
        if let Err(e) = branding.set_font(role, file) {
            return show(ctx, state, Some(draft), Some(refusal(lang, &e))).await;
        }
    }
    let actor = ctx.actor();
    state
        .store
        .write(move |w| admin::set_brand(w.db(), &actor, &branding, Timestamp::now()))
        .await??;
    Ok(ctx
        .redirect(
            PATH,
            Flash::Done,
            tr!(lang, "Brand saved: kiosks show it after their next pull."),
        )
        .await)
}

/// The brand's logo (signed-in accounts): for the preview, and to open on its own, where
/// an SVG gets a policy of its own that runs no script.
pub async fn logo(_ctx: Ctx, State(state): State<AppState>) -> Result<Response, ConsoleError> {
    let fixed = state.brand.clone();
    let logo = state.store.read(move |c| hub_brand::logo(c, fixed.as_deref())).await?;
    let Some((format, bytes)) = logo else {
        return Err(ConsoleError::NotFound);
    };
    let mut response = ([(header::CONTENT_TYPE, format.content_type())], bytes.to_vec()).into_response();
    if format == LogoFormat::Svg {
        // Kept by `security_headers`, which sets the console's policy only where none is.
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SVG_POLICY));
    }
    Ok(response)
}
