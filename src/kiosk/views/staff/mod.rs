//! Staff mode's views: the PIN keypad, the stock tool and the kiosk's health. The shell
//! opens the keypad (the attract screen's corner, or a badge), enters staff mode when
//! the keypad says the PIN was right, and leaves it ("leave", or idle), emptying every
//! staff model: the shopper side never shows any of it.
//!
//! - [`keypad`]: choosing a name and typing a PIN, checked offline (`staff::roster`);
//! - [`stock`]: a product's stock matrix, this shop's figures and the others', live;
//! - [`health`]: sync, camera, catalog and disk, and "sync now".

pub mod health;
pub mod keypad;
pub mod stock;
