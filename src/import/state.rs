//! What the importer remembers between runs: each source address with its
//! page, its last ETag and Last-Modified, a hash of its extracted text, how
//! many runs in a row it has been missing, and when it was last checked;
//! each run; and each run's change set, staged until staff approve it.
//! Kept in SQLite beside the other data (`<data_dir>/import.db`), or in
//! PostgreSQL when `[shared] postgres_url` is set, each council's rows
//! apart, so that every replica sees the same record and one import at a
//! time runs for a council.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{Pg, PgLock};

/// Where a council's import record lives.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The data folder: the SQLite file and the run lock's file.
    pub data_dir: PathBuf,
    /// The council the rows belong to ("" for an install with one council).
    pub council: String,
    /// PostgreSQL's address; empty for the embedded SQLite file.
    pub postgres_url: String,
    pub timeout: Duration,
}

impl Place {
    /// The embedded record in `data_dir`.
    pub fn local(data_dir: &Path) -> Place {
        Place {
            data_dir: data_dir.to_path_buf(),
            council: String::new(),
            postgres_url: String::new(),
            timeout: Duration::from_secs(5),
        }
    }

    /// The record the settings choose for this council.
    pub fn configured(config: &crate::config::Config) -> Place {
        Place {
            data_dir: config.data_dir.clone(),
            council: config.council_id.clone(),
            postgres_url: config.shared.postgres_url.trim().to_string(),
            timeout: Duration::from_millis(config.shared.postgres_timeout_ms.max(1)),
        }
    }
}

pub struct State {
    db: Db,
    council: String,
    data_dir: PathBuf,
}

enum Db {
    Sqlite(Connection),
    Postgres(Pg),
}

/// One import at a time for a council: a lock on a file in the data folder,
/// and with PostgreSQL an advisory lock that every replica sees.
pub struct RunLock {
    _file: std::fs::File,
    _pg: Option<PgLock>,
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

/// A row of `KNOWN_COLUMNS` from PostgreSQL.
fn pg_known(r: &tokio_postgres::Row) -> Known {
    Known {
        url: r.get(0),
        slug: r.get(1),
        etag: r.get(2),
        last_modified: r.get(3),
        hash: r.get(4),
        status: r.get(5),
        missing: r.get(6),
        last_checked: r.get(7),
        links: links(r.get::<_, String>(8)),
    }
}

/// Reads a struct from a row by column position, for each backend (rusqlite's
/// `get` gives a Result, tokio-postgres's the value).
macro_rules! row_readers {
    ($sqlite:ident, $pg:ident, $ty:ident { $($field:ident: $i:literal),* $(,)? }) => {
        fn $sqlite(r: &rusqlite::Row) -> rusqlite::Result<$ty> {
            Ok($ty { $($field: r.get($i)?),* })
        }
        fn $pg(r: &tokio_postgres::Row) -> $ty {
            $ty { $($field: r.get($i)),* }
        }
    };
}

const CHANGE_COLUMNS: &str = "id, run, kind, target, path, url, content, diff, note, status";

row_readers!(
    change_row,
    pg_change,
    Change {
        id: 0,
        run: 1,
        kind: 2,
        target: 3,
        path: 4,
        url: 5,
        content: 6,
        diff: 7,
        note: 8,
        status: 9
    }
);

const RUN_COLUMNS: &str = "id, kind, source, started, finished, status, summary";

row_readers!(
    run_row,
    pg_run,
    Run {
        id: 0,
        kind: 1,
        source: 2,
        started: 3,
        finished: 4,
        status: 5,
        summary: 6
    }
);

/// Runs one PostgreSQL statement with `council` first and `$2...` after it,
/// giving the number of rows it touched.
macro_rules! pg_execute {
    ($pg:expr, $council:expr, $sql:expr $(, $arg:expr)*) => {{
        let council = $council.to_string();
        $pg.run(move |pool| async move {
            let n = pool.get().await?.execute($sql, &[&council $(, &$arg)*]).await?;
            Ok(n as usize)
        })
    }};
}

/// Runs one PostgreSQL query, `council` first, mapping each row with `$map`.
macro_rules! pg_query {
    ($pg:expr, $council:expr, $map:expr, $sql:expr $(, $arg:expr)*) => {{
        let council = $council.to_string();
        $pg.run(move |pool| async move {
            let rows = pool.get().await?.query($sql, &[&council $(, &$arg)*]).await?;
            Ok(rows.iter().map($map).collect::<Vec<_>>())
        })
    }};
}

impl State {
    /// Opens the record at `place`: PostgreSQL (bringing its tables up to
    /// date) when an address is set, else `<data_dir>/import.db`.
    pub fn open(place: &Place) -> Result<State> {
        let db = if place.postgres_url.is_empty() {
            Db::Sqlite(open_sqlite(&place.data_dir)?)
        } else {
            Db::Postgres(Pg::connect(&place.postgres_url, place.timeout)?)
        };
        Ok(State {
            db,
            council: place.council.clone(),
            data_dir: place.data_dir.clone(),
        })
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Takes the run lock, or says another import is running.
    pub fn lock_runs(&self) -> Result<RunLock> {
        let file = lock_file(&self.data_dir)?;
        let pg = match &self.db {
            Db::Sqlite(_) => None,
            Db::Postgres(pg) => match pg.try_lock(&format!("signpost import {}", self.council))? {
                Some(l) => Some(l),
                None => bail!(
                    "another import is running for this council (on this or another replica); this one was not started"
                ),
            },
        };
        Ok(RunLock {
            _file: file,
            _pg: pg,
        })
    }

    /// Marks runs left "running" by a process that stopped as interrupted,
    /// and says whether there were any (so the next run starts at once).
    pub fn interrupted(&self) -> Result<usize> {
        match &self.db {
            Db::Sqlite(db) => Ok(db.execute(
                "UPDATE runs SET status = 'interrupted', finished = ?1 WHERE status = 'running'",
                params![now()],
            )?),
            Db::Postgres(pg) => pg_execute!(
                pg,
                self.council,
                "UPDATE import_runs SET status = 'interrupted', finished = $2 WHERE status = 'running' AND council = $1",
                now()
            ),
        }
    }

    /// How many runs are still marked running: with the import lock free,
    /// runs a process started and never finished.
    pub fn unfinished(&self) -> Result<usize> {
        match &self.db {
            Db::Sqlite(db) => Ok(db.query_row(
                "SELECT COUNT(*) FROM runs WHERE status = 'running'",
                [],
                |r| r.get::<_, i64>(0),
            )? as usize),
            Db::Postgres(pg) => Ok(pg_query!(
                pg,
                self.council,
                |r: &tokio_postgres::Row| r.get::<_, i64>(0),
                "SELECT COUNT(*) FROM import_runs WHERE status = 'running' AND council = $1"
            )?
            .first()
            .copied()
            .unwrap_or(0) as usize),
        }
    }

    pub fn start_run(&self, kind: &str, source: &str) -> Result<i64> {
        match &self.db {
            Db::Sqlite(db) => {
                db.execute(
                    "INSERT INTO runs (kind, source, started, status) VALUES (?1, ?2, ?3, 'running')",
                    params![kind, source, now()],
                )?;
                Ok(db.last_insert_rowid())
            }
            Db::Postgres(pg) => {
                let (kind, source) = (kind.to_string(), source.to_string());
                pg_query!(
                    pg,
                    self.council,
                    |r: &tokio_postgres::Row| r.get::<_, i64>(0),
                    "INSERT INTO import_runs (council, kind, source, started, status) VALUES ($1, $2, $3, $4, 'running') RETURNING id",
                    kind,
                    source,
                    now()
                )?
                .first()
                .copied()
                .context("PostgreSQL gave no id for the new run")
            }
        }
    }

    pub fn finish_run(&self, id: i64, status: &str, summary: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(db) => {
                db.execute(
                    "UPDATE runs SET status = ?2, finished = ?3, summary = ?4 WHERE id = ?1",
                    params![id, status, now(), summary],
                )?;
            }
            Db::Postgres(pg) => {
                let (status, summary) = (status.to_string(), summary.to_string());
                pg_execute!(
                    pg,
                    self.council,
                    "UPDATE import_runs SET status = $3, finished = $4, summary = $5 WHERE id = $2 AND council = $1",
                    id,
                    status,
                    now(),
                    summary
                )?;
            }
        }
        Ok(())
    }

    /// The newest runs first.
    pub fn runs(&self, limit: usize) -> Result<Vec<Run>> {
        match &self.db {
            Db::Sqlite(db) => {
                let mut st = db.prepare(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
                ))?;
                let rows = st.query_map(params![limit as i64], run_row)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Postgres(pg) => pg_query!(
                pg,
                self.council,
                pg_run,
                &format!("SELECT {RUN_COLUMNS} FROM import_runs WHERE council = $1 ORDER BY id DESC LIMIT $2"),
                limit as i64
            ),
        }
    }

    pub fn known(&self, url: &str) -> Result<Option<Known>> {
        match &self.db {
            Db::Sqlite(db) => Ok(db
                .query_row(
                    &format!("SELECT {KNOWN_COLUMNS} FROM sources WHERE url = ?1"),
                    params![url],
                    known_row,
                )
                .optional()?),
            Db::Postgres(pg) => {
                let url = url.to_string();
                Ok(pg_query!(
                    pg,
                    self.council,
                    pg_known,
                    &format!(
                        "SELECT {KNOWN_COLUMNS} FROM import_sources WHERE council = $1 AND url = $2"
                    ),
                    url
                )?
                .into_iter()
                .next())
            }
        }
    }

    pub fn all_known(&self) -> Result<Vec<Known>> {
        match &self.db {
            Db::Sqlite(db) => {
                let mut st =
                    db.prepare(&format!("SELECT {KNOWN_COLUMNS} FROM sources ORDER BY url"))?;
                let rows = st.query_map([], known_row)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Postgres(pg) => pg_query!(
                pg,
                self.council,
                pg_known,
                &format!(
                    "SELECT {KNOWN_COLUMNS} FROM import_sources WHERE council = $1 ORDER BY url"
                )
            ),
        }
    }

    pub fn remember(&self, k: &Known) -> Result<()> {
        let links = serde_json::to_string(&k.links).unwrap_or_else(|_| "[]".into());
        match &self.db {
            Db::Sqlite(db) => {
                db.execute(
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
                        links
                    ],
                )?;
            }
            Db::Postgres(pg) => {
                let k = k.clone();
                pg_execute!(
                    pg,
                    self.council,
                    "INSERT INTO import_sources (council, url, slug, etag, last_modified, hash, status, missing, last_checked, links)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (council, url) DO UPDATE SET slug = $3, etag = $4, last_modified = $5,
                       hash = $6, status = $7, missing = $8, last_checked = $9, links = $10",
                    k.url,
                    k.slug,
                    k.etag,
                    k.last_modified,
                    k.hash,
                    k.status,
                    k.missing,
                    k.last_checked,
                    links
                )?;
            }
        }
        Ok(())
    }

    pub fn forget(&self, url: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(db) => {
                db.execute("DELETE FROM sources WHERE url = ?1", params![url])?;
            }
            Db::Postgres(pg) => {
                let url = url.to_string();
                pg_execute!(
                    pg,
                    self.council,
                    "DELETE FROM import_sources WHERE council = $1 AND url = $2",
                    url
                )?;
            }
        }
        Ok(())
    }

    pub fn stage(&self, c: &Change) -> Result<i64> {
        match &self.db {
            Db::Sqlite(db) => {
                db.execute(
                    "INSERT INTO changes (run, kind, target, path, url, content, diff, note, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![c.run, c.kind, c.target, c.path, c.url, c.content, c.diff, c.note, c.status],
                )?;
                Ok(db.last_insert_rowid())
            }
            Db::Postgres(pg) => {
                let c = c.clone();
                pg_query!(
                    pg,
                    self.council,
                    |r: &tokio_postgres::Row| r.get::<_, i64>(0),
                    "INSERT INTO import_changes (council, run, kind, target, path, url, content, diff, note, status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    c.run,
                    c.kind,
                    c.target,
                    c.path,
                    c.url,
                    c.content,
                    c.diff,
                    c.note,
                    c.status
                )?
                .first()
                .copied()
                .context("PostgreSQL gave no id for the staged change")
            }
        }
    }

    /// Changes, newest run first; only those still staged if `staged_only`.
    pub fn changes(&self, run: Option<i64>, staged_only: bool) -> Result<Vec<Change>> {
        match &self.db {
            Db::Sqlite(db) => {
                let mut st = db.prepare(&format!(
                    "SELECT {CHANGE_COLUMNS} FROM changes
                     WHERE (?1 IS NULL OR run = ?1) AND (?2 = 0 OR status = 'staged')
                     ORDER BY run DESC, id"
                ))?;
                let rows = st.query_map(params![run, staged_only as i64], change_row)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Postgres(pg) => pg_query!(
                pg,
                self.council,
                pg_change,
                &format!(
                    "SELECT {CHANGE_COLUMNS} FROM import_changes
                     WHERE council = $1 AND ($2::BIGINT IS NULL OR run = $2) AND (NOT $3 OR status = 'staged')
                     ORDER BY run DESC, id"
                ),
                run,
                staged_only
            ),
        }
    }

    pub fn decide(&self, id: i64, status: &str, by: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(db) => {
                db.execute(
                    "UPDATE changes SET status = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1",
                    params![id, status, now(), by],
                )?;
            }
            Db::Postgres(pg) => {
                let (status, by) = (status.to_string(), by.to_string());
                pg_execute!(
                    pg,
                    self.council,
                    "UPDATE import_changes SET status = $3, decided_at = $4, decided_by = $5 WHERE id = $2 AND council = $1",
                    id,
                    status,
                    now(),
                    by
                )?;
            }
        }
        Ok(())
    }

    /// Staged changes for the same target from earlier runs are superseded
    /// by a newer one: they are marked rejected so only the newest is applied.
    pub fn supersede(&self, target: &str, newer_run: i64) -> Result<()> {
        match &self.db {
            Db::Sqlite(db) => {
                db.execute(
                    "UPDATE changes SET status = 'rejected', decided_at = ?3, decided_by = 'superseded'
                     WHERE target = ?1 AND run < ?2 AND status = 'staged'",
                    params![target, newer_run, now()],
                )?;
            }
            Db::Postgres(pg) => {
                let target = target.to_string();
                pg_execute!(
                    pg,
                    self.council,
                    "UPDATE import_changes SET status = 'rejected', decided_at = $4, decided_by = 'superseded'
                     WHERE council = $1 AND target = $2 AND run < $3 AND status = 'staged'",
                    target,
                    newer_run,
                    now()
                )?;
            }
        }
        Ok(())
    }
}

fn open_sqlite(data_dir: &Path) -> Result<Connection> {
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
    Ok(db)
}

/// The file lock: one import at a time on a data folder.
fn lock_file(data_dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(data_dir)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join("import.lock"))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("another import is running on this data folder; this one was not started")
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}
