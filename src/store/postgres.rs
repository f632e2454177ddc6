//! The PostgreSQL backend of the store: an async client (tokio-postgres)
//! behind a connection pool (deadpool-postgres), with versioned migrations
//! that two replicas starting at once apply only once.
//!
//! The store's callers are synchronous (the request path and the staff
//! pages call it between other work), so the pool runs on a small runtime
//! of its own and each call waits for its answer, at most `timeout`. That
//! keeps the callers the same for both backends and never nests one
//! runtime's `block_on` inside another.

use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::NewCallback;

/// The schema, one step per version, applied in order and recorded in
/// `signpost_migrations`. Never edit a step once released: add the next.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
    "CREATE TABLE conversations (
       id BIGSERIAL PRIMARY KEY, council TEXT NOT NULL DEFAULT '', conversation TEXT NOT NULL,
       at BIGINT NOT NULL, channel TEXT NOT NULL, route TEXT NOT NULL, triage TEXT NOT NULL,
       question TEXT NOT NULL, reply TEXT NOT NULL);
     CREATE INDEX conversations_council_at ON conversations(council, at);
     CREATE TABLE audit (
       id BIGSERIAL PRIMARY KEY, council TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL,
       actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
     CREATE INDEX audit_council ON audit(council, id);
     CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE callbacks (
       id BIGSERIAL PRIMARY KEY, council TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL,
       name TEXT NOT NULL, contact TEXT NOT NULL, best_time TEXT NOT NULL,
       question TEXT NOT NULL);
     CREATE INDEX callbacks_council_at ON callbacks(council, at);",
    ),
    // The importer's record (src/import/state.rs): sources, runs and change
    // sets, each council's apart.
    (
        2,
        "CREATE TABLE import_sources (
       council TEXT NOT NULL, url TEXT NOT NULL, slug TEXT NOT NULL, etag TEXT,
       last_modified TEXT, hash TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'active',
       missing BIGINT NOT NULL DEFAULT 0, last_checked TEXT, links TEXT NOT NULL DEFAULT '[]',
       PRIMARY KEY (council, url));
     CREATE TABLE import_runs (
       id BIGSERIAL PRIMARY KEY, council TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
       started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '');
     CREATE INDEX import_runs_council ON import_runs(council, id);
     CREATE TABLE import_changes (
       id BIGSERIAL PRIMARY KEY, council TEXT NOT NULL, run BIGINT NOT NULL, kind TEXT NOT NULL,
       target TEXT NOT NULL, path TEXT NOT NULL, url TEXT NOT NULL, content TEXT,
       diff TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
       status TEXT NOT NULL DEFAULT 'staged', decided_at TEXT, decided_by TEXT);
     CREATE INDEX import_changes_council ON import_changes(council, run, id);",
    ),
];

/// An arbitrary constant: the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x5349_474e_504f_5354; // "SIGNPOST"

pub struct Pg {
    pool: Pool,
    rt: Option<tokio::runtime::Runtime>,
    timeout: Duration,
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's task would panic.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Pg {
    /// Connects, checks the server answers and brings the schema up to date.
    pub fn connect(url: &str, timeout: Duration) -> Result<Pg> {
        let shown = redact(url);
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            anyhow!("shared.postgres_url '{shown}' is not a PostgreSQL address (postgres://user:password@host:5432/database): {e}")
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("signpost-postgres")
            .enable_all()
            .build()
            .context("cannot start the PostgreSQL client's runtime")?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .context("cannot build the PostgreSQL connection pool")?;
        let pg = Pg {
            pool,
            rt: Some(rt),
            timeout,
        };
        pg.migrate().with_context(|| {
            format!("cannot reach PostgreSQL at {shown} or prepare its tables: start it and check the address and password, or leave shared.postgres_url empty to use the embedded SQLite store")
        })?;
        Ok(pg)
    }

    /// Runs `f` on the pool's runtime and waits for it, at most the timeout.
    pub(crate) fn run<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| anyhow!("the store is closed"))?;
        let fut = f(self.pool.clone());
        let timeout = self.timeout;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let out = match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => Err(anyhow!(
                    "PostgreSQL did not answer within {} ms",
                    timeout.as_millis()
                )),
            };
            let _ = tx.send(out);
        });
        rx.recv()
            .map_err(|_| anyhow!("the PostgreSQL client stopped"))?
    }

    fn migrate(&self) -> Result<()> {
        self.run(|pool| async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS signpost_migrations (
                   version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
            let row = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM signpost_migrations",
                    &[],
                )
                .await?;
            let have: i32 = row.get(0);
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > have) {
                tx.batch_execute(sql)
                    .await
                    .with_context(|| format!("migration {version} failed"))?;
                tx.execute(
                    "INSERT INTO signpost_migrations (version, applied_at) VALUES ($1, $2)",
                    &[version, &super::now()],
                )
                .await?;
                tracing::info!(version, "PostgreSQL schema migrated");
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub fn record(&self, council: &str, at: i64, f: [&str; 6]) -> Result<()> {
        let council = council.to_string();
        let f = f.map(str::to_string);
        self.run(|pool| async move {
            pool.get().await?.execute(
                "INSERT INTO conversations (conversation, at, channel, route, triage, question, reply, council) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&f[0], &at, &f[1], &f[2], &f[3], &f[4], &f[5], &council],
            ).await?;
            Ok(())
        })
    }

    /// `table` is one of the store's own table names, never user input.
    pub fn delete_before(&self, table: &'static str, council: &str, unix: i64) -> Result<usize> {
        let council = council.to_string();
        self.run(|pool| async move {
            let n = pool
                .get()
                .await?
                .execute(
                    &format!("DELETE FROM {table} WHERE at < $1 AND council = $2"),
                    &[&unix, &council],
                )
                .await?;
            Ok(n as usize)
        })
    }

    pub fn conversation_count(&self, council: &str) -> Result<i64> {
        let council = council.to_string();
        self.run(|pool| async move {
            let row = pool
                .get()
                .await?
                .query_one(
                    "SELECT COUNT(*) FROM conversations WHERE council = $1",
                    &[&council],
                )
                .await?;
            Ok(row.get(0))
        })
    }

    pub fn gaps(&self, council: &str) -> Result<Vec<(i64, String)>> {
        let council = council.to_string();
        self.run(|pool| async move {
            let rows = pool.get().await?.query(
                "SELECT at, question FROM conversations WHERE route = 'decline' AND triage LIKE 'proceed%' AND council = $1 ORDER BY at DESC, id DESC",
                &[&council],
            ).await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    pub fn add_callback(&self, council: &str, at: i64, c: &NewCallback) -> Result<i64> {
        let council = council.to_string();
        let c = c.clone();
        self.run(|pool| async move {
            let row = pool.get().await?.query_one(
                "INSERT INTO callbacks (at, name, contact, best_time, question, council) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&at, &c.name, &c.contact, &c.best_time, &c.question, &council],
            ).await?;
            Ok(row.get(0))
        })
    }

    pub fn callbacks(&self, council: &str) -> Result<Vec<(i64, i64, NewCallback)>> {
        let council = council.to_string();
        self.run(|pool| async move {
            let rows = pool.get().await?.query(
                "SELECT id, at, name, contact, best_time, question FROM callbacks WHERE council = $1 ORDER BY id DESC",
                &[&council],
            ).await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        r.get(0),
                        r.get(1),
                        NewCallback {
                            name: r.get(2),
                            contact: r.get(3),
                            best_time: r.get(4),
                            question: r.get(5),
                        },
                    )
                })
                .collect())
        })
    }

    pub fn audit(&self, council: &str, at: i64, f: [&str; 3]) -> Result<()> {
        let council = council.to_string();
        let f = f.map(str::to_string);
        self.run(|pool| async move {
            pool.get().await?.execute(
                "INSERT INTO audit (at, actor, action, detail, council) VALUES ($1, $2, $3, $4, $5)",
                &[&at, &f[0], &f[1], &f[2], &council],
            ).await?;
            Ok(())
        })
    }

    pub fn audit_log(&self, council: &str) -> Result<Vec<(i64, String, String, String)>> {
        let council = council.to_string();
        self.run(|pool| async move {
            let rows = pool
                .get()
                .await?
                .query(
                    "SELECT at, actor, action, detail FROM audit WHERE council = $1 ORDER BY id DESC",
                    &[&council],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect())
        })
    }

    /// Takes the advisory lock named `name` if no session holds it, and
    /// holds it until the returned guard is dropped (or this process dies:
    /// the server lets go when the connection closes).
    pub(crate) fn try_lock(&self, name: &str) -> Result<Option<PgLock>> {
        let name = name.to_string();
        let name_for_unlock = name.clone();
        self.run(|pool| async move {
            let client = pool.get().await?;
            let got: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                    &[&name],
                )
                .await?
                .get(0);
            Ok(got.then_some(client))
        })
        .map(|client| {
            client.map(|client| PgLock {
                client: Some(client),
                name: name_for_unlock,
                rt: self.rt.as_ref().map(|rt| rt.handle().clone()),
                timeout: self.timeout,
            })
        })
    }

    pub fn ping(&self) -> bool {
        self.run(|pool| async move {
            pool.get().await?.query_one("SELECT 1", &[]).await?;
            Ok(())
        })
        .is_ok()
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.run(|pool| async move {
            let row = pool
                .get()
                .await?
                .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
                .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.run(|pool| async move {
            pool.get().await?.execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            ).await?;
            Ok(())
        })
    }
}

/// An advisory lock held on its own connection. Dropping it unlocks and
/// waits for the server to say so before the connection is closed (never
/// returned to the pool still holding the lock): closing alone lets the
/// server release the lock a moment later, so a replica that asks at once
/// could still be refused.
pub(crate) struct PgLock {
    client: Option<deadpool_postgres::Object>,
    name: String,
    rt: Option<tokio::runtime::Handle>,
    timeout: Duration,
}

impl Drop for PgLock {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let Some(rt) = &self.rt else {
            drop(deadpool_postgres::Object::take(client));
            return;
        };
        let name = std::mem::take(&mut self.name);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            // If this fails the connection still closes below, and the
            // server lets go of the lock when it notices.
            let _ = client
                .execute(
                    "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                    &[&name],
                )
                .await;
            drop(deadpool_postgres::Object::take(client));
            let _ = tx.send(());
        });
        let _ = rx.recv_timeout(self.timeout);
    }
}

/// The address with any password hidden, for messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            redact("postgres://signpost:s3cret@db.internal:5432/signpost"),
            "postgres://signpost:***@db.internal:5432/signpost"
        );
        assert_eq!(redact("not a url"), "(unparsable)");
    }

    #[test]
    fn a_bad_address_is_a_clear_error() {
        let e = Pg::connect("mysql://nope", Duration::from_millis(200))
            .err()
            .expect("an error");
        assert!(format!("{e:#}").contains("PostgreSQL"), "{e:#}");
        // Nothing listens on port 1: the message says what to do.
        let e = Pg::connect(
            "postgres://signpost:pw@127.0.0.1:1/signpost",
            Duration::from_millis(500),
        )
        .err()
        .expect("an error");
        let msg = format!("{e:#}");
        assert!(msg.contains("leave shared.postgres_url empty"), "{msg}");
        assert!(!msg.contains("pw@"), "{msg}");
    }
}
