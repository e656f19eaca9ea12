//! When a shopper's session ends, without I/O: the controller reports taps and asks
//! every second, giving the time; this says whether to warn ("Are you still there?",
//! with a countdown) or to end. Nothing here knows Slint.

use std::time::{Duration, Instant};

/// How long a session may stay idle, warn, and last at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Without a tap for this long, the warning shows.
    pub idle: Duration,
    /// The warning's countdown; the session ends when it runs out.
    pub warning: Duration,
    /// The session ends after this long whatever happens (a tablet left signed in).
    pub max: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle: Duration::from_secs(60),
            warning: Duration::from_secs(10),
            max: Duration::from_secs(30 * 60),
        }
    }
}

/// What the controller should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing to show.
    Quiet,
    /// Show the warning with this many whole seconds left (at least 1).
    Warn { seconds_left: u64 },
    /// End the session.
    End(EndReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Idle,
    MaxReached,
}

/// A session's clock: when it began and when the shopper last did something.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    limits: Limits,
    started: Instant,
    last_touch: Instant,
}

impl Session {
    pub fn new(limits: Limits, now: Instant) -> Session {
        Session {
            limits,
            started: now,
            last_touch: now,
        }
    }

    /// The shopper did something: the idle clock starts again (and a warning goes).
    /// Other limits from now on, the visit's start and last touch kept (the shopper
    /// asked for more time).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn touch(&mut self, now: Instant) {
        self.last_touch = now;
    }

    pub fn tick(&self, now: Instant) -> Tick {
        if now.saturating_duration_since(self.started) >= self.limits.max {
            return Tick::End(EndReason::MaxReached);
        }
        let idle = now.saturating_duration_since(self.last_touch);
        let ends = self.limits.idle + self.limits.warning;
        if idle >= ends {
            Tick::End(EndReason::Idle)
        } else if idle >= self.limits.idle {
            let left = ends - idle;
            Tick::Warn {
                seconds_left: left.as_secs() + u64::from(left.subsec_nanos() > 0),
            }
        } else {
            Tick::Quiet
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_warns_then_ends_and_a_touch_saves_it() {
        let t0 = Instant::now();
        let mut s = Session::new(Limits::default(), t0);
        let at = |secs: f64| t0 + Duration::from_secs_f64(secs);
        assert_eq!(s.tick(at(59.9)), Tick::Quiet);
        assert_eq!(s.tick(at(60.0)), Tick::Warn { seconds_left: 10 });
        assert_eq!(s.tick(at(69.5)), Tick::Warn { seconds_left: 1 });
        assert_eq!(s.tick(at(70.0)), Tick::End(EndReason::Idle));
        s.touch(at(65.0));
        assert_eq!(s.tick(at(70.0)), Tick::Quiet);
        assert_eq!(s.tick(at(125.0)), Tick::Warn { seconds_left: 10 });
    }

    #[test]
    fn the_maximum_ends_even_a_busy_session() {
        let t0 = Instant::now();
        let limits = Limits {
            max: Duration::from_secs(600),
            ..Limits::default()
        };
        let mut s = Session::new(limits, t0);
        for minute in 1..10 {
            s.touch(t0 + Duration::from_secs(minute * 60));
        }
        assert_eq!(s.tick(t0 + Duration::from_secs(599)), Tick::Quiet);
        assert_eq!(s.tick(t0 + Duration::from_secs(600)), Tick::End(EndReason::MaxReached));
    }
}
