//! One finger while speech is on, without Slint: a stroke (where it went down, where
//! it came up) and the time make a gesture. No gesture needs two fingers.

use std::time::{Duration, Instant};

/// A stroke shorter than this is a tap.
const SWIPE: f32 = 60.0;
/// Two taps this close in time and place are a double tap.
const DOUBLE_TAP: Duration = Duration::from_millis(450);
const DOUBLE_TAP_DISTANCE: f32 = 80.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gesture {
    /// A swipe right or down.
    Next,
    /// A swipe left or up.
    Previous,
    /// A tap: say what is under the finger, and focus it.
    Explore { x: f32, y: f32 },
    /// A second tap: choose what is focused.
    Activate,
}

#[derive(Debug, Default)]
pub struct Gestures {
    last_tap: Option<(Instant, f32, f32)>,
}

impl Gestures {
    pub fn stroke(&mut self, from: (f32, f32), to: (f32, f32), now: Instant) -> Gesture {
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        if dx.abs().max(dy.abs()) >= SWIPE {
            self.last_tap = None;
            let forward = if dx.abs() >= dy.abs() { dx > 0.0 } else { dy > 0.0 };
            return if forward { Gesture::Next } else { Gesture::Previous };
        }
        let double = self.last_tap.is_some_and(|(at, x, y)| {
            now.saturating_duration_since(at) <= DOUBLE_TAP
                && (x - to.0).abs() <= DOUBLE_TAP_DISTANCE
                && (y - to.1).abs() <= DOUBLE_TAP_DISTANCE
        });
        if double {
            self.last_tap = None;
            Gesture::Activate
        } else {
            self.last_tap = Some((now, to.0, to.1));
            Gesture::Explore { x: to.0, y: to.1 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_become_gestures() {
        let mut g = Gestures::default();
        let t = Instant::now();
        assert_eq!(g.stroke((100.0, 100.0), (300.0, 120.0), t), Gesture::Next);
        assert_eq!(g.stroke((300.0, 100.0), (100.0, 90.0), t), Gesture::Previous);
        assert_eq!(g.stroke((100.0, 100.0), (110.0, 400.0), t), Gesture::Next);
        assert_eq!(g.stroke((100.0, 400.0), (100.0, 100.0), t), Gesture::Previous);
        assert_eq!(
            g.stroke((50.0, 50.0), (52.0, 51.0), t),
            Gesture::Explore { x: 52.0, y: 51.0 }
        );
        assert_eq!(
            g.stroke((55.0, 50.0), (55.0, 50.0), t + Duration::from_millis(300)),
            Gesture::Activate
        );
        // A third tap starts over; a slow second tap explores again.
        assert!(matches!(
            g.stroke((55.0, 50.0), (55.0, 50.0), t),
            Gesture::Explore { .. }
        ));
        assert!(matches!(
            g.stroke((55.0, 50.0), (55.0, 50.0), t + Duration::from_secs(1)),
            Gesture::Explore { .. }
        ));
        // Far apart is two taps, not a double tap.
        let t = t + Duration::from_secs(5);
        g.stroke((10.0, 10.0), (10.0, 10.0), t);
        assert!(matches!(
            g.stroke((500.0, 500.0), (500.0, 500.0), t + Duration::from_millis(100)),
            Gesture::Explore { .. }
        ));
    }
}
