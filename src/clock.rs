//! The time every decision is made by: the system's, or one a test sets
//! and moves (scheduled publication, form fill times, link expiry, the
//! retention purge), so behaviour in time is tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock: the system's by default.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds since the epoch, where a test fixed the time.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `unix_seconds` until moved with [`Clock::advance`].
    pub fn fixed(unix_seconds: i64) -> Clock {
        Clock { fixed: Some(Arc::new(AtomicI64::new(unix_seconds * 1000))) }
    }

    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.fixed {
            Some(t) => t.load(Ordering::SeqCst),
            None => SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
        }
    }

    /// Seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves a fixed clock forward (the system clock moves by itself).
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.fixed {
            t.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_until_moved() {
        let c = Clock::fixed(1_000);
        assert_eq!(c.now(), 1_000);
        c.advance(Duration::from_millis(1_500));
        assert_eq!((c.now(), c.now_ms()), (1_001, 1_001_500));
        let shared = c.clone();
        shared.advance(Duration::from_secs(10));
        assert_eq!(c.now(), 1_011, "clones share the time");
        assert!(Clock::system().now() > 1_700_000_000);
    }
}
