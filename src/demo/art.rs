//! Flat illustrations for the demo store: one garment silhouette per product type, drawn
//! in the product's colour on a warm studio backdrop. Three views per colour make a
//! gallery: the full piece, a close-up, and the piece on a tinted plinth.

/// The drawing of a product type, in a 400 × 500 box: body path, shade path (seams,
/// folds) and details (stitching, buttons) drawn in a darker tone.
struct Silhouette {
    body: &'static str,
    shade: &'static str,
    detail: &'static str,
    /// Accent parts that keep their own colour (soles, buckles).
    accent: &'static str,
}

fn silhouette(kind: &str) -> Silhouette {
    match kind {
        "tshirt" => Silhouette {
            body: "M140 90 L170 78 Q200 100 230 78 L260 90 L330 130 L305 190 L270 172 L270 420 L130 420 L130 172 L95 190 L70 130 Z",
            shade: "M130 400 L270 400 L270 420 L130 420 Z M95 190 L105 166 L130 178 L130 172 Z",
            detail: "M170 78 Q200 112 230 78",
            accent: "",
        },
        "shirt" => Silhouette {
            body: "M150 80 L180 70 L200 92 L220 70 L250 80 L320 120 L345 330 L310 338 L282 180 L278 420 L122 420 L118 180 L90 338 L55 330 L80 120 Z",
            shade: "M310 330 L345 322 L345 338 L310 346 Z M55 322 L90 330 L90 346 L55 338 Z",
            detail: "M200 92 L200 420 M180 70 L200 112 L220 70 M192 140 h16 M192 190 h16 M192 240 h16 M192 290 h16 M192 340 h16",
            accent: "",
        },
        "blouse" => Silhouette {
            body: "M150 84 Q200 120 250 84 L318 118 Q340 220 336 320 L300 326 L286 190 Q296 300 288 420 L112 420 Q104 300 114 190 L100 326 L64 320 Q60 220 82 118 Z",
            shade: "M112 404 Q200 416 288 404 L288 420 L112 420 Z",
            detail: "M150 84 Q200 150 250 84 M200 120 L200 180",
            accent: "",
        },
        "sweater" => Silhouette {
            body: "M145 86 Q200 112 255 86 L325 120 Q348 230 342 352 L300 356 L284 200 L286 420 L114 420 L116 200 L100 356 L58 352 Q52 230 75 120 Z",
            shade: "M114 392 L286 392 L286 420 L114 420 Z M58 334 L100 338 L100 356 L58 352 Z M300 338 L342 334 L342 352 L300 356 Z",
            detail: "M145 86 Q200 124 255 86 M130 398 v18 M150 398 v18 M170 398 v18 M190 398 v18 M210 398 v18 M230 398 v18 M250 398 v18 M270 398 v18",
            accent: "",
        },
        "dress" => Silhouette {
            body: "M168 70 L178 70 L186 130 Q200 140 214 130 L222 70 L232 70 L240 140 Q246 200 232 236 L318 440 Q200 462 82 440 L168 236 Q154 200 160 140 Z",
            shade: "M168 236 L232 236 L236 250 L164 250 Z M200 262 L180 448 M200 262 L226 450",
            detail: "M160 140 Q200 156 240 140",
            accent: "",
        },
        "skirt" => Silhouette {
            body: "M130 110 L270 110 L270 140 L320 410 Q200 430 80 410 L130 140 Z",
            shade: "M130 110 L270 110 L270 140 L130 140 Z M170 160 L150 416 M230 160 L250 416",
            detail: "M140 125 h120",
            accent: "",
        },
        "coat" => Silhouette {
            body: "M140 64 L178 54 L200 110 L222 54 L260 64 L326 104 Q344 260 338 396 L298 400 L288 200 L290 460 L110 460 L112 200 L102 400 L62 396 Q56 260 74 104 Z",
            shade: "M178 54 L200 110 L170 190 L150 96 Z M222 54 L200 110 L230 190 L250 96 Z",
            detail: "M200 110 L200 460 M182 230 a6 6 0 1 0 0.1 0 M182 300 a6 6 0 1 0 0.1 0 M182 370 a6 6 0 1 0 0.1 0 M128 330 h50 M222 330 h50",
            accent: "",
        },
        "jacket" => Silhouette {
            body: "M142 78 L178 68 L200 118 L222 68 L258 78 L322 114 Q340 240 334 340 L296 344 L286 196 L288 380 L112 380 L114 196 L104 344 L66 340 Q60 240 78 114 Z",
            shade: "M178 68 L200 118 L172 196 L152 106 Z M222 68 L200 118 L228 196 L248 106 Z M112 366 L288 366 L288 380 L112 380 Z",
            detail: "M200 118 L200 380 M188 240 a5 5 0 1 0 0.1 0 M188 300 a5 5 0 1 0 0.1 0 M126 290 h46 v30 h-46 Z M228 290 h46 v30 h-46 Z",
            accent: "",
        },
        "jeans" => Silhouette {
            body: "M124 70 L276 70 L290 460 L222 460 L204 190 L196 190 L178 460 L110 460 Z",
            shade: "M124 70 L276 70 L278 96 L122 96 Z M110 440 L178 440 L178 460 L110 460 Z M222 440 L290 440 L290 460 L222 460 Z",
            detail: "M200 96 L200 190 M140 100 Q150 140 186 140 M260 100 Q250 140 214 140 M196 80 h8",
            accent: "",
        },
        "bag" => Silhouette {
            body: "M100 190 L300 190 L322 430 L78 430 Z",
            shade: "M78 410 L322 410 L322 430 L78 430 Z M100 190 L300 190 L302 212 L98 212 Z",
            detail: "M150 190 Q150 90 200 90 Q250 90 250 190 M165 190 Q165 108 200 108 Q235 108 235 190",
            accent: "M188 226 h24 v16 h-24 Z",
        },
        "scarf" => Silhouette {
            body: "M130 70 Q200 40 270 70 L262 120 Q200 96 138 120 Z M150 110 L200 110 L188 410 L138 410 Z M210 112 L258 118 L262 380 L214 380 Z",
            shade: "M138 392 L188 392 L188 410 L138 410 Z M214 362 L262 362 L262 380 L214 380 Z",
            detail: "M142 410 v22 M150 410 v22 M158 410 v22 M166 410 v22 M174 410 v22 M182 410 v22 M218 380 v22 M226 380 v22 M234 380 v22 M242 380 v22 M250 380 v22 M258 380 v22",
            accent: "",
        },
        "hat" => Silhouette {
            body: "M150 170 Q150 110 200 104 Q250 110 250 170 L256 260 Q330 266 342 292 Q200 330 58 292 Q70 266 144 260 Z",
            shade: "M144 236 L256 236 L257 262 L143 262 Z",
            detail: "M200 106 Q190 140 200 170",
            accent: "",
        },
        "sneaker" => Silhouette {
            body: "M70 300 Q72 230 110 220 L170 214 L230 262 Q300 268 334 300 Q344 320 330 332 L72 332 Z",
            shade: "M110 220 L170 214 L150 262 L100 262 Z",
            detail: "M150 232 l24 18 M162 222 l24 18 M174 214 l24 18 M90 290 Q200 300 320 300",
            accent: "M64 332 L338 332 Q344 352 330 356 L70 356 Q60 350 64 332 Z",
        },
        "boot" => Silhouette {
            body: "M130 120 L232 120 L236 300 Q300 306 326 336 Q334 352 322 360 L122 360 Z",
            shade: "M130 120 L232 120 L232 140 L130 140 Z M200 150 L214 290",
            detail: "M218 150 v140",
            accent: "M118 360 L326 360 Q332 378 318 382 L122 382 Z M122 360 L156 360 L156 394 L122 394 Z",
        },
        _ => silhouette("tshirt"),
    }
}

/// Mixes a `#rrggbb` colour with black (negative `amount`) or white (positive).
fn shade(hex: &str, amount: f32) -> String {
    let channel = |i: usize| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(128) as f32;
    let target = if amount < 0.0 { 0.0 } else { 255.0 };
    let mix = |c: f32| (c + (target - c) * amount.abs()).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", mix(channel(0)), mix(channel(1)), mix(channel(2)))
}

/// The views of each colour: full piece, close-up, and on a plinth.
pub const VIEWS: [&str; 3] = ["front", "detail", "plinth"];

/// An SVG illustration of a product type in a colour, in one view.
pub fn illustration(kind: &str, hex: &str, view: &str) -> String {
    let s = silhouette(kind);
    // Light colours need a darker line to stay visible on the cream backdrop.
    let light = {
        let c = |i: usize| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0) as u32;
        (299 * c(0) + 587 * c(1) + 114 * c(2)) / 1000 > 200
    };
    let line = if light { shade(hex, -0.35) } else { shade(hex, -0.45) };
    let fold = shade(hex, -0.18);
    let highlight = shade(hex, 0.12);
    let accent = if kind == "bag" {
        "#c9a86a".to_owned()
    } else {
        "#f4f1ea".to_owned()
    };
    let (view_box, backdrop) = match view {
        "detail" => ("110 90 180 225", "#efe7dc"),
        "plinth" => ("0 0 400 500", "#e7ddd0"),
        _ => ("0 0 400 500", "#f3eee7"),
    };
    let stage = match view {
        "plinth" => {
            r##"<rect x="60" y="430" width="280" height="70" rx="6" fill="#d8cbbb"/><ellipse cx="200" cy="432" rx="150" ry="12" fill="#cbbcab"/>"##
        }
        "detail" => "",
        _ => {
            r##"<circle cx="200" cy="250" r="170" fill="#ebe3d8"/><ellipse cx="200" cy="470" rx="140" ry="10" fill="#e2d8cb"/>"##
        }
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" width="800" height="1000">
<defs><clipPath id="left"><rect x="0" y="0" width="200" height="500"/></clipPath></defs>
<rect x="-400" y="-400" width="1200" height="1300" fill="{backdrop}"/>
{stage}
<g stroke-linejoin="round" stroke-linecap="round">
<path d="{body}" fill="{hex}" stroke="{line}" stroke-width="3"/>
<path d="{body}" fill="{highlight}" opacity="0.5" clip-path="url(#left)"/>
<path d="{shade_path}" fill="{fold}" stroke="none"/>
<path d="{detail}" fill="none" stroke="{line}" stroke-width="2.5" stroke-dasharray="{dash}"/>
<path d="{accent_path}" fill="{accent}" stroke="{line}" stroke-width="2"/>
</g>
</svg>
"##,
        body = s.body,
        shade_path = s.shade,
        detail = s.detail,
        accent_path = s.accent,
        dash = if matches!(kind, "jeans" | "bag") { "6 5" } else { "none" },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn shades_stay_in_range() {
        assert_eq!(super::shade("#808080", -1.0), "#000000");
        assert_eq!(super::shade("#808080", 1.0), "#ffffff");
        assert_eq!(super::shade("#000000", 0.5), "#808080");
    }
}
