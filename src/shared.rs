//! State that replicas share when `[shared] redis_url` is set (Redis, or a
//! server that speaks its protocol such as Valkey): each conversation's
//! recent turns, the per-client rate limits, and each council's kill switch.
//! Without it, all three stay in the process (and the kill switch in the
//! council's database), as on one server.
//!
//! Keys are `signpost:<council>:...`, so councils never meet. A call that
//! fails (Redis unreachable or slow past `timeout_ms`) is logged and the
//! replica carries on with what it has: a follow-up is answered without its
//! history, the rate limit is the replica's own, and the kill switch is the
//! council's database's. Residents are never refused because Redis is away.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use redis::Commands;
use serde::{de::DeserializeOwned, Serialize};

/// A connection pool to one Redis server, for one council.
pub struct Shared {
    client: redis::Client,
    idle: Mutex<Vec<redis::Connection>>,
    prefix: String,
    timeout: Duration,
}

impl Shared {
    /// Connects once to check the address, so a wrong setting is reported
    /// when Signpost starts.
    pub fn connect(url: &str, council: &str, timeout: Duration) -> Result<Shared> {
        let client = redis::Client::open(url).with_context(|| {
            format!("shared.redis_url '{url}' is not a Redis address (redis://host:port/db)")
        })?;
        let s = Shared {
            client,
            idle: Mutex::new(Vec::new()),
            prefix: format!("signpost:{council}:"),
            timeout,
        };
        let mut c = s.connection().with_context(|| {
            format!("cannot reach Redis at {url}: start it, or leave shared.redis_url empty to keep state in this process")
        })?;
        redis::cmd("PING")
            .query::<String>(&mut c)
            .with_context(|| format!("Redis at {url} did not answer PING"))?;
        s.give_back(c);
        Ok(s)
    }

    fn connection(&self) -> Result<redis::Connection> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let c = self.client.get_connection_with_timeout(self.timeout)?;
        c.set_read_timeout(Some(self.timeout))?;
        c.set_write_timeout(Some(self.timeout))?;
        Ok(c)
    }

    fn give_back(&self, c: redis::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < 16 {
            idle.push(c);
        }
    }

    /// Runs `f` on a pooled connection; a connection that failed is dropped.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let mut c = self.connection()?;
        let out = f(&mut c)?;
        self.give_back(c);
        Ok(out)
    }

    fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    /// A stored value (JSON), if there is one.
    pub fn load<T: DeserializeOwned>(&self, what: &str) -> Result<Option<T>> {
        let key = self.key(what);
        let text: Option<String> = self.with(|c| c.get(&key))?;
        text.map(|t| serde_json::from_str(&t).context("a shared value could not be read"))
            .transpose()
    }

    /// Stores a value (JSON) for `ttl`.
    pub fn save<T: Serialize>(&self, what: &str, value: &T, ttl: Duration) -> Result<()> {
        let key = self.key(what);
        let text = serde_json::to_string(value)?;
        self.with(|c| c.set_ex::<_, _, ()>(&key, text, ttl.as_secs().max(1)))
    }

    /// Counts one message from `client` on `channel` in this minute, across
    /// every replica; false once the count passes `per_minute`.
    pub fn allow(&self, channel: &str, client: &str, per_minute: u32) -> Result<bool> {
        let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
        let key = self.key(&format!("rate:{channel}:{client}:{minute}"));
        let (count,): (u64,) = self.with(|c| {
            redis::pipe()
                .atomic()
                .incr(&key, 1)
                .expire(&key, 120)
                .ignore()
                .query(c)
        })?;
        Ok(count <= u64::from(per_minute))
    }

    /// The kill switch as every replica sees it, if staff ever set it here.
    pub fn kill_switch(&self) -> Result<Option<bool>> {
        let key = self.key("kill_switch");
        let v: Option<String> = self.with(|c| c.get(&key))?;
        Ok(v.map(|v| v == "on"))
    }

    pub fn set_kill_switch(&self, on: bool) -> Result<()> {
        let key = self.key("kill_switch");
        self.with(|c| c.set::<_, _, ()>(&key, if on { "on" } else { "off" }))
    }
}
