//! The store: conversations (only when switched on, always redacted,
//! deleted on schedule), call-back requests, the audit log of staff actions,
//! and service settings such as the kill switch. Embedded SQLite by default;
//! PostgreSQL when `[shared] postgres_url` is set, so that replicas share
//! one store. Both backends behave the same, and the same tests run on both.

mod postgres;

pub(crate) use postgres::{Pg, PgLock};

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::{params, Connection};

pub struct Store {
    backend: Backend,
    /// The council every row is written for and read back for ("" for an
    /// install with one council), so councils' rows stay apart even in one
    /// database file.
    council: String,
}

/// An unanswered question, for the staff's content-gaps export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Gap {
    pub date: String,
    pub question: String,
}

/// A request for a call back, as the person filled it in.
#[derive(Debug, Clone)]
pub struct NewCallback {
    pub name: String,
    pub contact: String,
    pub best_time: String,
    pub question: String,
}

/// A stored call-back request, for the staff view.
#[derive(Debug, Clone)]
pub struct Callback {
    pub id: i64,
    pub when: String,
    pub name: String,
    pub contact: String,
    pub best_time: String,
    pub question: String,
}

enum Backend {
    Sqlite(Mutex<Connection>),
    Postgres(postgres::Pg),
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/signpost.db`.
    pub fn open(data_dir: &Path) -> Result<Store> {
        Store::open_for(data_dir, "")
    }

    /// Opens the store for one council of several.
    pub fn open_for(data_dir: &Path, council: &str) -> Result<Store> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("signpost.db");
        let db = Connection::open(&path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS conversations (
               id INTEGER PRIMARY KEY, conversation TEXT NOT NULL, at INTEGER NOT NULL,
               channel TEXT NOT NULL, route TEXT NOT NULL, triage TEXT NOT NULL,
               question TEXT NOT NULL, reply TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS conversations_at ON conversations(at);
             CREATE TABLE IF NOT EXISTS audit (
               id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
               action TEXT NOT NULL, detail TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS callbacks (
               id INTEGER PRIMARY KEY, at INTEGER NOT NULL, name TEXT NOT NULL,
               contact TEXT NOT NULL, best_time TEXT NOT NULL, question TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS callbacks_at ON callbacks(at);",
        )
        .context("cannot prepare the database")?;
        // Rows carry their council (added to databases made before this).
        for table in ["conversations", "audit", "callbacks"] {
            let has: bool = db
                .prepare(&format!(
                    "SELECT 1 FROM pragma_table_info('{table}') WHERE name = 'council'"
                ))?
                .exists([])?;
            if !has {
                db.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN council TEXT NOT NULL DEFAULT ''"
                ))
                .with_context(|| format!("cannot add the council column to {table}"))?;
            }
        }
        Ok(Store {
            backend: Backend::Sqlite(Mutex::new(db)),
            council: council.to_string(),
        })
    }

    /// Opens the store the settings choose: PostgreSQL at `postgres_url`
    /// (creating or upgrading its tables), else SQLite in `data_dir`.
    pub fn open_configured(
        data_dir: &Path,
        council: &str,
        postgres_url: &str,
        timeout: std::time::Duration,
    ) -> Result<Store> {
        if postgres_url.trim().is_empty() {
            return Store::open_for(data_dir, council);
        }
        Ok(Store {
            backend: Backend::Postgres(postgres::Pg::connect(postgres_url.trim(), timeout)?),
            council: council.to_string(),
        })
    }

    /// Which backend this is, for logs and readiness: "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    fn sqlite(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        match &self.backend {
            Backend::Sqlite(db) => Some(db.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres(_) => None,
        }
    }

    fn pg(&self) -> Option<&postgres::Pg> {
        match &self.backend {
            Backend::Postgres(pg) => Some(pg),
            Backend::Sqlite(_) => None,
        }
    }

    #[cfg(test)]
    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.sqlite().expect("a SQLite store")
    }

    /// Records one exchange. The caller passes text already redacted.
    pub fn record(
        &self,
        conversation: &str,
        channel: &str,
        route: &str,
        triage: &str,
        question: &str,
        reply: &str,
    ) -> Result<()> {
        if let Some(pg) = self.pg() {
            return pg.record(
                &self.council,
                now(),
                [conversation, channel, route, triage, question, reply],
            );
        }
        self.db_sqlite()?.execute(
            "INSERT INTO conversations (conversation, at, channel, route, triage, question, reply, council) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![conversation, now(), channel, route, triage, question, reply, self.council],
        )?;
        Ok(())
    }

    /// Deletes conversations older than `days`; returns how many.
    pub fn delete_older_than(&self, days: u32) -> Result<usize> {
        self.delete_conversations_before(now() - i64::from(days) * 86_400)
    }

    /// Deletes conversations recorded before `unix` (seconds); returns how many.
    pub fn delete_conversations_before(&self, unix: i64) -> Result<usize> {
        if let Some(pg) = self.pg() {
            return pg.delete_before("conversations", &self.council, unix);
        }
        Ok(self.db_sqlite()?.execute(
            "DELETE FROM conversations WHERE at < ?1 AND council = ?2",
            params![unix, self.council],
        )?)
    }

    pub fn conversation_count(&self) -> Result<i64> {
        if let Some(pg) = self.pg() {
            return pg.conversation_count(&self.council);
        }
        Ok(self.db_sqlite()?.query_row(
            "SELECT COUNT(*) FROM conversations WHERE council = ?1",
            params![self.council],
            |r| r.get(0),
        )?)
    }

    /// Questions Signpost could not answer from the pages (content gaps).
    pub fn gaps(&self) -> Result<Vec<Gap>> {
        let rows: Vec<(i64, String)> = if let Some(pg) = self.pg() {
            pg.gaps(&self.council)?
        } else {
            let db = self.db_sqlite()?;
            let mut st = db.prepare(
                "SELECT at, question FROM conversations WHERE route = 'decline' AND triage LIKE 'proceed%' AND council = ?1 ORDER BY at DESC, id DESC",
            )?;
            let rows = st.query_map(params![self.council], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        Ok(rows
            .into_iter()
            .map(|(at, question)| Gap {
                date: time::OffsetDateTime::from_unix_timestamp(at)
                    .map(|t| t.date().to_string())
                    .unwrap_or_default(),
                question,
            })
            .collect())
    }

    /// Stores a request for a call back (the person gave these details
    /// for this purpose; they are deleted on the callback schedule).
    pub fn add_callback(&self, c: &NewCallback) -> Result<i64> {
        if let Some(pg) = self.pg() {
            return pg.add_callback(&self.council, now(), c);
        }
        let db = self.db_sqlite()?;
        db.execute(
            "INSERT INTO callbacks (at, name, contact, best_time, question, council) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now(), c.name, c.contact, c.best_time, c.question, self.council],
        )?;
        Ok(db.last_insert_rowid())
    }

    /// Call-back requests, newest first.
    pub fn callbacks(&self) -> Result<Vec<Callback>> {
        let rows: Vec<(i64, i64, NewCallback)> = if let Some(pg) = self.pg() {
            pg.callbacks(&self.council)?
        } else {
            let db = self.db_sqlite()?;
            let mut st = db.prepare(
                "SELECT id, at, name, contact, best_time, question FROM callbacks WHERE council = ?1 ORDER BY id DESC",
            )?;
            let rows = st.query_map(params![self.council], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    NewCallback {
                        name: r.get(2)?,
                        contact: r.get(3)?,
                        best_time: r.get(4)?,
                        question: r.get(5)?,
                    },
                ))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        Ok(rows
            .into_iter()
            .map(|(id, at, c)| Callback {
                id,
                when: time::OffsetDateTime::from_unix_timestamp(at)
                    .ok()
                    .and_then(|t| {
                        t.format(time::macros::format_description!(
                            "[year]-[month]-[day] [hour]:[minute] UTC"
                        ))
                        .ok()
                    })
                    .unwrap_or_default(),
                name: c.name,
                contact: c.contact,
                best_time: c.best_time,
                question: c.question,
            })
            .collect())
    }

    /// Deletes call-back requests older than `days`; returns how many.
    pub fn delete_callbacks_older_than(&self, days: u32) -> Result<usize> {
        self.delete_callbacks_before(now() - i64::from(days) * 86_400)
    }

    /// Deletes call-back requests made before `unix` (seconds); returns how many.
    pub fn delete_callbacks_before(&self, unix: i64) -> Result<usize> {
        if let Some(pg) = self.pg() {
            return pg.delete_before("callbacks", &self.council, unix);
        }
        Ok(self.db_sqlite()?.execute(
            "DELETE FROM callbacks WHERE at < ?1 AND council = ?2",
            params![unix, self.council],
        )?)
    }

    pub fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<()> {
        if let Some(pg) = self.pg() {
            return pg.audit(&self.council, now(), [actor, action, detail]);
        }
        self.db_sqlite()?.execute(
            "INSERT INTO audit (at, actor, action, detail, council) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now(), actor, action, detail, self.council],
        )?;
        Ok(())
    }

    /// The audit log, newest first: (unix time, actor, action, detail).
    pub fn audit_log(&self) -> Result<Vec<(i64, String, String, String)>> {
        if let Some(pg) = self.pg() {
            return pg.audit_log(&self.council);
        }
        let db = self.db_sqlite()?;
        let mut st = db.prepare(
            "SELECT at, actor, action, detail FROM audit WHERE council = ?1 ORDER BY id DESC",
        )?;
        let rows = st.query_map(params![self.council], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether the database answers (for readiness): a trivial query.
    pub fn ping(&self) -> bool {
        if let Some(pg) = self.pg() {
            return pg.ping();
        }
        self.sqlite()
            .is_some_and(|db| db.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).is_ok())
    }

    /// A setting's key in the table: the council's own ("<council>:<key>").
    fn key(&self, key: &str) -> String {
        if self.council.is_empty() {
            key.to_string()
        } else {
            format!("{}:{key}", self.council)
        }
    }

    /// A service setting, or None when unset or the store cannot be read.
    pub fn setting(&self, key: &str) -> Option<String> {
        let key = self.key(key);
        if let Some(pg) = self.pg() {
            return match pg.setting(&key) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "a setting could not be read from PostgreSQL");
                    None
                }
            };
        }
        self.sqlite()?
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .ok()
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let key = self.key(key);
        if let Some(pg) = self.pg() {
            return pg.set_setting(&key, value);
        }
        self.db_sqlite()?.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn db_sqlite(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.sqlite()
            .ok_or_else(|| anyhow::anyhow!("not a SQLite store"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_deletes_only_old_conversations() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        s.record("c1", "web", "answer", "proceed", "q", "r")
            .unwrap();
        s.db()
            .execute("UPDATE conversations SET at = at - 40 * 86400", [])
            .unwrap();
        s.record(
            "c2",
            "web",
            "decline",
            "proceed",
            "where can i buy a boat",
            "r",
        )
        .unwrap();
        assert_eq!(s.delete_older_than(30).unwrap(), 1);
        assert_eq!(s.conversation_count().unwrap(), 1);
        assert_eq!(s.gaps().unwrap()[0].question, "where can i buy a boat");
        s.audit("staff", "kill-switch", "on").unwrap();
        assert_eq!(s.audit_log().unwrap()[0].2, "kill-switch");
        s.set_setting("kill_switch", "on").unwrap();
        assert_eq!(s.setting("kill_switch").as_deref(), Some("on"));
        // Another council's rows and settings in the same file stay apart.
        let other = Store::open_for(dir.path(), "other").unwrap();
        assert_eq!(other.setting("kill_switch"), None);
        assert!(other.audit_log().unwrap().is_empty());
        other.audit("staff", "view", "/staff/audit").unwrap();
        assert_eq!(s.audit_log().unwrap()[0].2, "kill-switch");
    }

    #[test]
    fn callbacks_are_stored_listed_and_deleted_on_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let c = NewCallback {
            name: "Pat".into(),
            contact: "01632 960999".into(),
            best_time: "morning".into(),
            question: "help with a care assessment".into(),
        };
        s.add_callback(&c).unwrap();
        s.db()
            .execute("UPDATE callbacks SET at = at - 40 * 86400", [])
            .unwrap();
        s.add_callback(&NewCallback {
            name: "Sam".into(),
            ..c
        })
        .unwrap();
        let all = s.callbacks().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "Sam");
        assert!(all[0].when.ends_with("UTC"));
        assert_eq!(s.delete_callbacks_older_than(30).unwrap(), 1);
        assert_eq!(s.callbacks().unwrap()[0].name, "Sam");
        assert_eq!(s.callbacks().unwrap().len(), 1);
    }
}
