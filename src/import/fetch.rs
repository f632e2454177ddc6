//! Fetching a council's pages politely and safely: an honest user agent,
//! at most one request a second per host (or the site's Crawl-delay), back
//! off on 429 and 503 as `Retry-After` asks, conditional requests, and hard
//! limits: http(s) only, only the configured hosts, no private or loopback
//! addresses (unless a test allows them), at most 5 redirects, each checked,
//! a size and a time cap, no cookies (the client keeps none) and no script.

use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime};

use url::Url;

/// How the fetcher behaves.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Sent with every request; says who is asking and how to reach them.
    pub user_agent: String,
    /// Least time between two requests to one host.
    pub min_interval: Duration,
    /// Hosts that may be fetched (the site's own host, and any added).
    pub hosts: Vec<String>,
    /// Let loopback and private addresses through (tests only).
    pub allow_private: bool,
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Retries after 429 or 503.
    pub max_retries: usize,
    /// The longest `Retry-After` honoured; a longer one gives up on the URL.
    pub max_retry_after: Duration,
}

/// One response, after any redirects.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the content finally came from.
    pub url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Every redirect on the way was permanent (301 or 308).
    pub moved_permanently: bool,
}

/// Why a URL was not fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Refused for safety: a scheme, host or address that is not allowed.
    Refused(String),
    /// Bigger than the cap.
    TooLarge(u64),
    /// The server kept saying it was busy.
    Busy(u16),
    /// The network or the server failed.
    Failed(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Refused(why) => write!(f, "refused: {why}"),
            FetchError::TooLarge(cap) => write!(f, "larger than the {cap}-byte limit"),
            FetchError::Busy(status) => write!(f, "the server stayed busy ({status})"),
            FetchError::Failed(why) => write!(f, "{why}"),
        }
    }
}

/// The polite client for one import run.
pub struct Fetcher {
    agent: ureq::Agent,
    settings: FetchSettings,
    last: HashMap<String, Instant>,
    /// A host's own Crawl-delay, when longer than ours.
    delay: HashMap<String, Duration>,
    /// Requests made, for the run's report.
    pub requests: usize,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Fetcher {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(settings.timeout))
            .user_agent(settings.user_agent.as_str())
            .build()
            .new_agent();
        Fetcher {
            agent,
            settings,
            last: HashMap::new(),
            delay: HashMap::new(),
            requests: 0,
        }
    }

    /// Uses a host's Crawl-delay when it asks for more than our interval.
    pub fn set_crawl_delay(&mut self, host: &str, seconds: f32) {
        if seconds.is_finite() && seconds > 0.0 {
            self.delay
                .insert(host.to_string(), Duration::from_secs_f32(seconds.min(60.0)));
        }
    }

    /// Checks a URL may be fetched at all: http(s), an allowed host, and
    /// (unless allowed) not a private or loopback address.
    pub fn check(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Refused(format!(
                "{} is not a web address (only http and https are fetched)",
                url
            )));
        }
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        if !self
            .settings
            .hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
        {
            return Err(FetchError::Refused(format!(
                "{host} is not one of the hosts being imported ({})",
                self.settings.hosts.join(", ")
            )));
        }
        if self.settings.allow_private {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            _ => (host.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| FetchError::Failed(format!("cannot find {host}: {e}")))?
                .map(|a| a.ip())
                .collect(),
        };
        if let Some(ip) = addrs.iter().find(|ip| private(ip)) {
            return Err(FetchError::Refused(format!(
                "{host} is at {ip}, a private or loopback address"
            )));
        }
        Ok(())
    }

    /// Fetches `url`, following up to the redirect limit, with `If-None-Match`
    /// and `If-Modified-Since` from an earlier response when given. A body
    /// over `cap` bytes is an error; a 304 comes back with an empty body.
    pub fn get(
        &mut self,
        url: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
        cap: u64,
    ) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut permanent = true;
        for _ in 0..=self.settings.max_redirects {
            self.check(&current)?;
            let mut resp = self.send(&current, etag, last_modified)?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let Some(location) = header(&resp, "location") else {
                    return Err(FetchError::Failed(format!(
                        "{current} redirected ({status}) without saying where"
                    )));
                };
                let next = current.join(&location).map_err(|e| {
                    FetchError::Failed(format!("{current} redirected to a bad address: {e}"))
                })?;
                permanent &= matches!(status, 301 | 308);
                current = next;
                continue;
            }
            let content_type = header(&resp, "content-type");
            let etag = header(&resp, "etag");
            let last_modified = header(&resp, "last-modified");
            let body = if status == 304 || status >= 400 {
                Vec::new()
            } else {
                resp.body_mut()
                    .with_config()
                    .limit(cap)
                    .read_to_vec()
                    .map_err(|e| match e {
                        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge(cap),
                        e => FetchError::Failed(format!("{current}: {e}")),
                    })?
            };
            let moved_permanently = permanent && current != *url;
            return Ok(Fetched {
                url: current,
                status,
                content_type,
                body,
                etag,
                last_modified,
                moved_permanently,
            });
        }
        Err(FetchError::Refused(format!(
            "{url} redirected more than {} times",
            self.settings.max_redirects
        )))
    }

    /// One request, after waiting our turn for the host, retried while the
    /// server says it is busy (429, 503) for as long as `Retry-After` asks.
    fn send(
        &mut self,
        url: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let host = url.host_str().unwrap_or("").to_string();
        for attempt in 0..=self.settings.max_retries {
            self.wait_turn(&host);
            let mut req = self.agent.get(url.as_str());
            if let Some(e) = etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(lm) = last_modified {
                req = req.header("If-Modified-Since", lm);
            }
            self.requests += 1;
            let resp = req
                .call()
                .map_err(|e| FetchError::Failed(format!("{url}: {e}")))?;
            self.last.insert(host.clone(), Instant::now());
            let status = resp.status().as_u16();
            if !matches!(status, 429 | 503) {
                return Ok(resp);
            }
            let wait = header(&resp, "retry-after")
                .and_then(|v| retry_after(&v, SystemTime::now()))
                .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(5)));
            if wait > self.settings.max_retry_after || attempt == self.settings.max_retries {
                return Err(FetchError::Busy(status));
            }
            tracing::info!(url = %url, status, wait_ms = wait.as_millis() as u64, "server busy; waiting as asked");
            // The host's next turn comes after the wait.
            self.last.insert(host.clone(), Instant::now() + wait);
        }
        Err(FetchError::Busy(429))
    }

    fn wait_turn(&self, host: &str) {
        let interval = self
            .delay
            .get(host)
            .copied()
            .unwrap_or_default()
            .max(self.settings.min_interval);
        if let Some(last) = self.last.get(host) {
            let next = *last + interval;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
    }
}

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let fmt = time::format_description::well_known::Rfc2822;
    let at = time::OffsetDateTime::parse(v.trim(), &fmt).ok()?;
    let now = time::OffsetDateTime::from(now);
    let d = at - now;
    Some(Duration::from_secs_f64(d.as_seconds_f64().max(0.0)))
}

/// Loopback, private, link-local, unspecified, multicast and shared
/// addresses: never fetched in real use.
pub fn private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private(&IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(private(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2a00:1450:4009::1"] {
            assert!(!private(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after("2", now), Some(Duration::from_secs(2)));
        let later = "Tue, 14 Nov 2023 22:13:40 +0000";
        assert_eq!(retry_after(later, now), Some(Duration::from_secs(20)));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn only_web_addresses_on_the_imported_hosts_are_fetched() {
        let f = Fetcher::new(FetchSettings {
            user_agent: "test".into(),
            min_interval: Duration::ZERO,
            hosts: vec!["www.example.org".into()],
            allow_private: false,
            timeout: Duration::from_secs(1),
            max_redirects: 5,
            max_retries: 1,
            max_retry_after: Duration::from_secs(1),
        });
        let refused = |u: &str| {
            matches!(
                f.check(&Url::parse(u).unwrap()),
                Err(FetchError::Refused(_))
            )
        };
        assert!(refused("ftp://www.example.org/a"));
        assert!(refused("file:///etc/passwd"));
        assert!(refused("https://evil.example/a"));
        assert!(refused("http://127.0.0.1/"));
    }
}
