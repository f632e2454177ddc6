//! The import on a schedule, inside `serve`: the council's site and
//! directory re-checked once a day at a set time (UTC) plus a random delay,
//! one run at a time, and at once on start-up when the last run never
//! finished (the process stopped part-way).

use anyhow::{bail, Context, Result};
use time::{Duration, OffsetDateTime, Time};

use crate::config::Config;

use super::{oruk, state::State, Report, SiteOptions};

/// "HH:MM" (24-hour, UTC) as a time of day.
pub fn parse_time(s: &str) -> Result<Time> {
    let bad = || {
        format!("import.schedule '{s}' is not a time of day: write it as HH:MM in UTC, for example \"02:30\"")
    };
    let (h, m) = s.trim().split_once(':').with_context(bad)?;
    let (h, m): (u8, u8) = (
        h.parse().ok().with_context(bad)?,
        m.parse().ok().with_context(bad)?,
    );
    Time::from_hms(h, m, 0).ok().with_context(bad)
}

/// The next time the import is due after `now`: today's or tomorrow's
/// `at`, plus `jitter` (a delay chosen at random by the caller).
pub fn next_after(now: OffsetDateTime, at: Time, jitter: Duration) -> OffsetDateTime {
    let today = now.replace_time(at);
    let base = if today > now {
        today
    } else {
        today + Duration::days(1)
    };
    base + jitter
}

/// A delay of up to `minutes`, at random, so councils' imports do not all
/// start on the same minute.
pub fn jitter(minutes: u64) -> Duration {
    if minutes == 0 {
        return Duration::ZERO;
    }
    let r = u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or([0; 8]),
    );
    Duration::seconds((r % (minutes * 60 + 1)) as i64)
}

/// Whether the last import recorded at `record` never finished.
pub fn interrupted(record: &super::Place) -> bool {
    State::open(record)
        .and_then(|s| s.unfinished())
        .is_ok_and(|n| n > 0)
}

/// Runs the imports `config.import` names (the site, then the directory)
/// into the served knowledge base. Returns what each did.
pub fn run_configured(config: &Config) -> Result<Vec<Report>> {
    let s = &config.import;
    let mut reports = Vec::new();
    if s.site.is_empty() && s.services.is_empty() {
        bail!("nothing to import: set import.site or import.services");
    }
    if !s.site.is_empty() {
        let opts = SiteOptions::from_settings(
            s,
            &s.site,
            config.kb.dir.clone(),
            super::Place::configured(config),
        )?;
        reports.push(super::import_site(&opts)?);
    }
    if !s.services.is_empty() {
        reports.push(oruk::import_services(
            &oruk::Source::parse(&s.services),
            &config.kb.dir,
            &super::Place::configured(config),
            s.allow_private_addresses,
            s.auto_apply,
            &s.contact,
        )?);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    #[test]
    fn times_are_checked() {
        assert_eq!(parse_time("02:30").unwrap(), time!(2:30));
        assert_eq!(parse_time(" 23:05 ").unwrap(), time!(23:05));
        for bad in ["25:00", "2.30", "noon", "12:61", ""] {
            let e = parse_time(bad).unwrap_err().to_string();
            assert!(e.contains("HH:MM in UTC"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow() {
        let at = time!(2:30);
        assert_eq!(
            next_after(datetime!(2026-11-30 01:00 UTC), at, Duration::ZERO),
            datetime!(2026-11-30 02:30 UTC)
        );
        assert_eq!(
            next_after(datetime!(2026-11-30 02:30 UTC), at, Duration::minutes(7)),
            datetime!(2026-12-01 02:37 UTC)
        );
        for _ in 0..50 {
            let j = jitter(30);
            assert!(j >= Duration::ZERO && j <= Duration::minutes(30), "{j}");
        }
        assert_eq!(jitter(0), Duration::ZERO);
    }
}
