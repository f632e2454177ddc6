//! What the importer remembers between runs, in SQLite beside the other
//! data (`<data_dir>/import.db`): each source address with its page, its
//! last ETag and Last-Modified, a hash of its extracted text, how many runs
//! in a row it has been missing, and when it was last checked; each run; and
//! each run's change set, staged until staff approve it.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};

pub struct State {
    db: Connection,
}

/// What was known about one source address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    pub url: String,
    pub slug: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub hash: String,
    /// "active", "withdrawn" (gone twice: out of answers) or "removed".
    pub status: String,
    /// Runs in a row that gave 404 or 410.
    pub missing: i64,
    pub last_checked: Option<String>,
    /// The page's links last time, so a page that has not changed (304)
    /// still leads the crawl on.
    pub links: Vec<String>,
}

/// One staged or decided change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: i64,
    pub run: i64,
    /// "added", "changed", "removed", "withdrawn", "flagged" or "failed".
    pub kind: String,
    /// What it changes: a page's slug, or "service:<id>".
    pub target: String,
    /// The file in the knowledge base it writes or removes.
    pub path: String,
    pub url: String,
    /// The new file (or service record), when there is one.
    pub content: Option<String>,
    /// A text diff for a page; field changes for a service.
    pub diff: String,
    /// Flags and content problems staff should see.
    pub note: String,
    /// "staged", "applied" or "rejected".
    pub status: String,
}

/// One run, for the report and the staff page.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: i64,
    pub kind: String,
    pub source: String,
    pub started: String,
    pub finished: Option<String>,
    /// "running", "finished", "failed" or "interrupted".
    pub status: String,
    pub summary: String,
}

const KNOWN_COLUMNS: &str =
    "url, slug, etag, last_modified, hash, status, missing, last_checked, links";

/// A row of `KNOWN_COLUMNS`.
fn known_row(r: &rusqlite::Row) -> rusqlite::Result<Known> {
    Ok(Known {
        url: r.get(0)?,
        slug: r.get(1)?,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        hash: r.get(4)?,
        status: r.get(5)?,
        missing: r.get(6)?,
        last_checked: r.get(7)?,
        links: links(r.get::<_, String>(8)?),
    })
}

fn links(json: String) -> Vec<String> {
    serde_json::from_str(&json).unwrap_or_default()
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl State {
    pub fn open(data_dir: &Path) -> Result<State> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let path = data_dir.join("import.db");
        let db = Connection::open(&path)
            .with_context(|| format!("cannot open the import record {}", path.display()))?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS sources (
               url TEXT PRIMARY KEY, slug TEXT NOT NULL, etag TEXT, last_modified TEXT,
               hash TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'active',
               missing INTEGER NOT NULL DEFAULT 0, last_checked TEXT, links TEXT NOT NULL DEFAULT '[]');
             CREATE TABLE IF NOT EXISTS runs (
               id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL,
               started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '');
             CREATE TABLE IF NOT EXISTS changes (
               id INTEGER PRIMARY KEY, run INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,
               path TEXT NOT NULL, url TEXT NOT NULL, content TEXT, diff TEXT NOT NULL DEFAULT '',
               note TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'staged',
               decided_at TEXT, decided_by TEXT);",
        )?;
        Ok(State { db })
    }

    /// Marks runs left "running" by a process that stopped as interrupted,
    /// and says whether there were any (so the next run starts at once).
    pub fn interrupted(&self) -> Result<usize> {
        Ok(self.db.execute(
            "UPDATE runs SET status = 'interrupted', finished = ?1 WHERE status = 'running'",
            params![now()],
        )?)
    }

    /// How many runs are still marked running: with the import lock free,
    /// runs a process started and never finished.
    pub fn unfinished(&self) -> Result<usize> {
        Ok(self.db.query_row(
            "SELECT COUNT(*) FROM runs WHERE status = 'running'",
            [],
            |r| r.get::<_, i64>(0),
        )? as usize)
    }

    pub fn start_run(&self, kind: &str, source: &str) -> Result<i64> {
        self.db.execute(
            "INSERT INTO runs (kind, source, started, status) VALUES (?1, ?2, ?3, 'running')",
            params![kind, source, now()],
        )?;
        Ok(self.db.last_insert_rowid())
    }

    pub fn finish_run(&self, id: i64, status: &str, summary: &str) -> Result<()> {
        self.db.execute(
            "UPDATE runs SET status = ?2, finished = ?3, summary = ?4 WHERE id = ?1",
            params![id, status, now(), summary],
        )?;
        Ok(())
    }

    pub fn runs(&self, limit: usize) -> Result<Vec<Run>> {
        let mut st = self.db.prepare(
            "SELECT id, kind, source, started, finished, status, summary FROM runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st.query_map(params![limit as i64], |r| {
            Ok(Run {
                id: r.get(0)?,
                kind: r.get(1)?,
                source: r.get(2)?,
                started: r.get(3)?,
                finished: r.get(4)?,
                status: r.get(5)?,
                summary: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn known(&self, url: &str) -> Result<Option<Known>> {
        Ok(self
            .db
            .query_row(
                &format!("SELECT {KNOWN_COLUMNS} FROM sources WHERE url = ?1"),
                params![url],
                known_row,
            )
            .optional()?)
    }

    pub fn all_known(&self) -> Result<Vec<Known>> {
        let mut st = self
            .db
            .prepare(&format!("SELECT {KNOWN_COLUMNS} FROM sources ORDER BY url"))?;
        let rows = st.query_map([], known_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn remember(&self, k: &Known) -> Result<()> {
        self.db.execute(
            "INSERT INTO sources (url, slug, etag, last_modified, hash, status, missing, last_checked, links)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(url) DO UPDATE SET slug = ?2, etag = ?3, last_modified = ?4, hash = ?5,
               status = ?6, missing = ?7, last_checked = ?8, links = ?9",
            params![
                k.url,
                k.slug,
                k.etag,
                k.last_modified,
                k.hash,
                k.status,
                k.missing,
                k.last_checked,
                serde_json::to_string(&k.links).unwrap_or_else(|_| "[]".into())
            ],
        )?;
        Ok(())
    }

    pub fn forget(&self, url: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM sources WHERE url = ?1", params![url])?;
        Ok(())
    }

    pub fn stage(&self, c: &Change) -> Result<i64> {
        self.db.execute(
            "INSERT INTO changes (run, kind, target, path, url, content, diff, note, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![c.run, c.kind, c.target, c.path, c.url, c.content, c.diff, c.note, c.status],
        )?;
        Ok(self.db.last_insert_rowid())
    }

    /// Changes, newest run first; only those still staged if `staged_only`.
    pub fn changes(&self, run: Option<i64>, staged_only: bool) -> Result<Vec<Change>> {
        let mut st = self.db.prepare(
            "SELECT id, run, kind, target, path, url, content, diff, note, status FROM changes
             WHERE (?1 IS NULL OR run = ?1) AND (?2 = 0 OR status = 'staged')
             ORDER BY run DESC, id",
        )?;
        let rows = st.query_map(params![run, staged_only as i64], |r| {
            Ok(Change {
                id: r.get(0)?,
                run: r.get(1)?,
                kind: r.get(2)?,
                target: r.get(3)?,
                path: r.get(4)?,
                url: r.get(5)?,
                content: r.get(6)?,
                diff: r.get(7)?,
                note: r.get(8)?,
                status: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn decide(&self, id: i64, status: &str, by: &str) -> Result<()> {
        self.db.execute(
            "UPDATE changes SET status = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1",
            params![id, status, now(), by],
        )?;
        Ok(())
    }

    /// Staged changes for the same target from earlier runs are superseded
    /// by a newer one: they are marked rejected so only the newest is applied.
    pub fn supersede(&self, target: &str, newer_run: i64) -> Result<()> {
        self.db.execute(
            "UPDATE changes SET status = 'rejected', decided_at = ?3, decided_by = 'superseded'
             WHERE target = ?1 AND run < ?2 AND status = 'staged'",
            params![target, newer_run, now()],
        )?;
        Ok(())
    }
}
