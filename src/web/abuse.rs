//! Who is asking, and how often: the client's address (believing
//! `X-Forwarded-For` only from configured proxies) and the per-address rate
//! limit on form submissions. Counts live in memory only and are dropped
//! once they no longer matter.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::{DefaultKeyedRateLimiter, Quota};

/// The peer address of a connection, put into each request by the server loop.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

/// The address a request comes from. `X-Forwarded-For` is read right to
/// left, skipping trusted proxies, and only when the peer itself is one:
/// anyone else could write anything there.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut ip = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(a) if trusted.contains(&a) => ip = a,
            Ok(a) => return a,
            Err(_) => return ip,
        }
    }
    ip
}

/// The most addresses tracked at once; beyond it new addresses are refused
/// until idle ones are forgotten, so a flood of source addresses cannot
/// grow memory without bound.
const MAX_TRACKED: usize = 100_000;

/// The forms' window: `form_rate_limit` submissions per ten minutes.
pub const FORM_WINDOW: Duration = Duration::from_secs(600);
/// The search's window: `search_rate_limit` searches per minute.
pub const SEARCH_WINDOW: Duration = Duration::from_secs(60);

/// Per-address limits on an action (a form's submissions, searches).
pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<(&'static str, IpAddr)>,
}

/// The unit a limit counts: an IPv4 address, or an IPv6 /64 network (one
/// household or server gets a whole /64, so single IPv6 addresses are free).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().expect("checked")),
        v4 => v4,
    }
}

impl RateLimiter {
    /// `per_window` actions per address per action kind in `window` (as a
    /// burst, refilled evenly over the window).
    pub fn new(per_window: u32, window: Duration) -> RateLimiter {
        let n = NonZeroU32::new(per_window.max(1)).expect("at least one");
        let quota = Quota::with_period(window / n.get()).expect("a positive period").allow_burst(n);
        RateLimiter { limiter: DefaultKeyedRateLimiter::keyed(quota) }
    }

    /// Whether `ip` may do `action` (a form's name, `search`) now, and
    /// counts it.
    pub fn allow(&self, action: &'static str, ip: IpAddr) -> bool {
        let key = (action, limit_key(ip));
        if self.limiter.len() >= MAX_TRACKED {
            self.limiter.retain_recent();
            if self.limiter.len() >= MAX_TRACKED {
                return false;
            }
        }
        self.limiter.check_key(&key).is_ok()
    }

    /// Forgets addresses whose counts are back to full.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("198.51.100.7, 203.0.113.9"));
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &[proxy]), stranger, "a spoofed header is ignored");
        assert_eq!(client_ip(proxy, &h, &[proxy]), "203.0.113.9".parse::<IpAddr>().unwrap(), "the rightmost hop");
        let inner: IpAddr = "10.0.0.2".parse().unwrap();
        h.append("x-forwarded-for", HeaderValue::from_static("10.0.0.2"));
        assert_eq!(client_ip(proxy, &h, &[proxy, inner]), "203.0.113.9".parse::<IpAddr>().unwrap(), "chained proxies");
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn the_limit_is_per_form_and_per_address() {
        let l = RateLimiter::new(3, FORM_WINDOW);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| l.allow("contact", a)));
        assert!(!l.allow("contact", a), "the fourth within the window is refused");
        assert!(l.allow("newsletter", a), "another form has its own count");
        assert!(l.allow("contact", b), "another address has its own count");
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        assert!((0..3).all(|_| l.allow("contact", v6a)));
        assert!(!l.allow("contact", v6b), "one IPv6 /64 shares a count");
    }
}
