//! A council's services directory from an Open Referral UK feed, version 1
//! (`eligibilitys`, `regular_schedules`, `service_taxonomys`) or version 3
//! (`schedules`, `attributes[].taxonomy_term`, age fields), or from a JSON
//! file. Both are read into one model, the council's taxonomy is mapped to
//! the directory's categories through a mapping file, and the result is
//! written as `services/imported.json` in the shape `kb` reads, one staged
//! change per service with the fields that changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use url::Url;

use super::fetch::{FetchSettings, Fetcher};
use super::state::{Change, State};
use super::Report;

/// The file imported services are written to.
pub const FILE: &str = "services/imported.json";
/// The council's taxonomy mapping.
pub const MAPPING: &str = "services/taxonomy-map.toml";

/// One service, whichever version it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub organization: String,
    pub phones: Vec<String>,
    pub email: Option<String>,
    pub url: Option<String>,
    pub location: Option<String>,
    pub address: Option<(String, String, String)>,
    pub areas: Vec<String>,
    pub schedule: Option<String>,
    pub eligibility: Option<String>,
    pub cost: Option<String>,
    /// Taxonomy terms as (id, name).
    pub terms: Vec<(String, String)>,
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| match x {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|x| !x.is_empty())
}

fn arr<'a>(v: &'a Value, k: &str) -> impl Iterator<Item = &'a Value> {
    v.get(k).and_then(Value::as_array).into_iter().flatten()
}

/// "MO" -> "Monday", "Tuesday" -> "Tuesday".
fn day_name(d: &str) -> String {
    let names = [
        ("MO", "Monday"),
        ("TU", "Tuesday"),
        ("WE", "Wednesday"),
        ("TH", "Thursday"),
        ("FR", "Friday"),
        ("SA", "Saturday"),
        ("SU", "Sunday"),
    ];
    let d = d.trim();
    names
        .iter()
        .find(|(code, name)| code.eq_ignore_ascii_case(d) || name.eq_ignore_ascii_case(d))
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| d.to_string())
}

/// "10:00" -> "10am", "13:30:00" -> "1:30pm", "12:00" -> "12 noon".
fn clock(t: &str) -> String {
    let mut parts = t.trim().split(':');
    let h: u32 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(0);
    let m: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    match (h, m) {
        (12, 0) => "12 noon".into(),
        (0, 0) => "midnight".into(),
        _ => {
            let (hh, ap) = match h {
                0 => (12, "am"),
                1..=11 => (h, "am"),
                12 => (12, "pm"),
                _ => (h - 12, "pm"),
            };
            if m == 0 {
                format!("{hh}{ap}")
            } else {
                format!("{hh}:{m:02}{ap}")
            }
        }
    }
}

/// A schedule as words: its own description, else days and times.
fn schedule(items: Vec<&Value>) -> Option<String> {
    let first = items.first()?;
    if let Some(d) = s(first, "description") {
        return Some(d);
    }
    let mut out = Vec::new();
    for it in items {
        let days: Vec<String> = s(it, "byday")
            .or_else(|| s(it, "weekday"))
            .map(|d| d.split(',').map(day_name).collect())
            .unwrap_or_default();
        let times = match (s(it, "opens_at"), s(it, "closes_at")) {
            (Some(o), Some(c)) => format!("{} to {}", clock(&o), clock(&c)),
            _ => String::new(),
        };
        if !days.is_empty() {
            out.push(
                format!("{} {}", days.join(" and "), times)
                    .trim()
                    .to_string(),
            );
        }
    }
    (!out.is_empty()).then(|| out.join("; "))
}

/// Reads one service record, version 1 or 3. A record without an id or a
/// name is an error naming where it is.
pub fn normalise(v: &Value, position: usize) -> Result<Service, String> {
    let Some(id) = s(v, "id") else {
        return Err(format!("service {position} has no \"id\""));
    };
    let Some(name) = s(v, "name") else {
        return Err(format!("service {id} has no \"name\""));
    };
    let mut phones: Vec<String> = arr(v, "contacts")
        .flat_map(|c| arr(c, "phones"))
        .chain(arr(v, "phones"))
        .filter_map(|p| s(p, "number"))
        .collect();
    phones.dedup();
    let location = arr(v, "service_at_locations")
        .filter_map(|sal| sal.get("location"))
        .next();
    let address = location.and_then(|loc| {
        arr(loc, "physical_addresses")
            .chain(arr(loc, "addresses").filter(|a| {
                s(a, "address_type").is_none_or(|t| t.eq_ignore_ascii_case("physical"))
            }))
            .next()
            .map(|a| {
                (
                    s(a, "address_1").unwrap_or_default(),
                    s(a, "city").unwrap_or_default(),
                    s(a, "postal_code").unwrap_or_default(),
                )
            })
    });
    let areas: Vec<String> = arr(v, "service_areas")
        .filter_map(|a| s(a, "service_area").or_else(|| s(a, "name")))
        .collect();
    let schedule = schedule(
        arr(v, "regular_schedules")
            .chain(arr(v, "schedules"))
            .collect(),
    );
    let eligibility = arr(v, "eligibilitys")
        .filter_map(|e| s(e, "eligibility"))
        .next()
        .or_else(|| s(v, "eligibility_description"))
        .or_else(|| match (s(v, "minimum_age"), s(v, "maximum_age")) {
            (Some(a), Some(b)) => Some(format!("Aged {a} to {b}")),
            (Some(a), None) => Some(format!("Aged {a} and over")),
            (None, Some(b)) => Some(format!("Aged up to {b}")),
            _ => None,
        });
    let cost = s(v, "fees")
        .or_else(|| s(v, "fees_description"))
        .or_else(|| arr(v, "cost_options").filter_map(|c| s(c, "option")).next());
    let mut terms: Vec<(String, String)> = arr(v, "service_taxonomys")
        .filter_map(|t| t.get("taxonomy"))
        .chain(arr(v, "attributes").filter_map(|a| a.get("taxonomy_term")))
        .filter_map(|t| Some((s(t, "id").unwrap_or_default(), s(t, "name")?)))
        .collect();
    terms.sort();
    terms.dedup();
    Ok(Service {
        id,
        name,
        description: s(v, "description").unwrap_or_default(),
        status: s(v, "status").unwrap_or_else(|| "active".into()),
        organization: v
            .get("organization")
            .and_then(|o| s(o, "name"))
            .unwrap_or_default(),
        phones,
        email: s(v, "email"),
        url: s(v, "url"),
        location: location.and_then(|l| s(l, "name")),
        address,
        areas,
        schedule,
        eligibility,
        cost,
        terms,
    })
}

/// The council's mapping from its own taxonomy terms (by id or name) to the
/// directory's categories. A term named like a category maps to it.
pub struct Mapping(BTreeMap<String, String>);

impl Mapping {
    pub fn load(kb: &Path) -> Result<Mapping> {
        let path = kb.join(MAPPING);
        if !path.exists() {
            return Ok(Mapping(BTreeMap::new()));
        }
        let text = std::fs::read_to_string(&path)?;
        let map: BTreeMap<String, String> = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}\nEach line maps a term to a category: \"Term name\" = \"befriending\"",
                path.display()
            )
        })?;
        for (term, cat) in &map {
            if !crate::kb::CATEGORIES.contains(&cat.as_str()) {
                bail!(
                    "{}: '{term}' maps to '{cat}', which is not a directory category ({})",
                    path.display(),
                    crate::kb::CATEGORIES.join(", ")
                );
            }
        }
        Ok(Mapping(
            map.into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        ))
    }

    /// The categories for a service, and the terms that map to none.
    pub fn categories(&self, terms: &[(String, String)]) -> (Vec<String>, Vec<String>) {
        let mut cats = Vec::new();
        let mut unmapped = Vec::new();
        for (id, name) in terms {
            let found = self
                .0
                .get(&id.to_lowercase())
                .or_else(|| self.0.get(&name.to_lowercase()))
                .cloned()
                .or_else(|| {
                    let tag = name.to_lowercase().replace(' ', "-");
                    crate::kb::CATEGORIES.contains(&tag.as_str()).then_some(tag)
                });
            match found {
                Some(c) if !cats.contains(&c) => cats.push(c),
                Some(_) => {}
                None => unmapped.push(name.clone()),
            }
        }
        (cats, unmapped)
    }
}

/// A service as the directory file holds it (the version 1 shape `kb` reads).
pub fn record(s: &Service, categories: &[String]) -> Value {
    let mut r = json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "status": s.status,
        "organization": {"id": format!("{}-org", s.id), "name": s.organization},
        "contacts": [{"id": format!("{}-contact", s.id), "phones": s.phones.iter().enumerate().map(|(i, p)| json!({"id": format!("{}-phone-{i}", s.id), "number": p})).collect::<Vec<_>>()}],
        "service_taxonomys": categories.iter().map(|c| json!({"id": format!("{}-{c}", s.id), "taxonomy": {"id": c, "name": c, "vocabulary": "signpost-category"}})).collect::<Vec<_>>(),
    });
    if let Some(e) = &s.email {
        r["email"] = json!(e);
    }
    if let Some(u) = &s.url {
        r["url"] = json!(u);
    }
    if s.location.is_some() || s.address.is_some() {
        let (a1, city, pc) = s.address.clone().unwrap_or_default();
        r["service_at_locations"] = json!([{"id": format!("{}-sal", s.id), "location": {
            "id": format!("{}-loc", s.id),
            "name": s.location.clone().unwrap_or_default(),
            "physical_addresses": [{"id": format!("{}-addr", s.id), "address_1": a1, "city": city, "postal_code": pc}],
        }}]);
    }
    if !s.areas.is_empty() {
        r["service_areas"] = json!(s
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| json!({"id": format!("{}-area-{i}", s.id), "service_area": a}))
            .collect::<Vec<_>>());
    }
    if let Some(d) = &s.schedule {
        r["regular_schedules"] = json!([{"id": format!("{}-schedule", s.id), "description": d}]);
    }
    if let Some(e) = &s.eligibility {
        r["eligibilitys"] = json!([{"id": format!("{}-eligibility", s.id), "eligibility": e}]);
    }
    if let Some(c) = &s.cost {
        r["fees"] = json!(c);
    }
    r
}

/// What changed between two records, field by field.
pub fn field_diff(old: &Value, new: &Value) -> Vec<String> {
    let a = normalise(old, 0).ok();
    let b = normalise(new, 0).ok();
    let (Some(a), Some(b)) = (a, b) else {
        return vec!["the record could not be compared".into()];
    };
    let mut out = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{name}: \"{x}\" -> \"{y}\""));
        }
    };
    field("name", a.name, b.name);
    field("phone", a.phones.join(", "), b.phones.join(", "));
    field(
        "email",
        a.email.unwrap_or_default(),
        b.email.unwrap_or_default(),
    );
    field(
        "hours",
        a.schedule.unwrap_or_default(),
        b.schedule.unwrap_or_default(),
    );
    field(
        "cost",
        a.cost.unwrap_or_default(),
        b.cost.unwrap_or_default(),
    );
    let addr = |x: Option<(String, String, String)>| {
        x.map(|(a, b, c)| format!("{a}, {b}, {c}"))
            .unwrap_or_default()
    };
    field("address", addr(a.address), addr(b.address));
    field(
        "eligibility",
        a.eligibility.unwrap_or_default(),
        b.eligibility.unwrap_or_default(),
    );
    field("description", a.description, b.description);
    field("areas", a.areas.join(", "), b.areas.join(", "));
    field("status", a.status, b.status);
    out
}

/// Where the services come from.
pub enum Source {
    Url(Url),
    File(PathBuf),
}

impl Source {
    /// An http(s) address is a feed; anything else a file.
    pub fn parse(s: &str) -> Source {
        match Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Source::Url(u),
            _ => Source::File(PathBuf::from(s)),
        }
    }
}

/// Reads every service: from a file, or by paging through `/services` (and
/// fetching `/services/{id}` for items the list gives only thinly).
pub fn read_feed(
    source: &Source,
    allow_private: bool,
    contact: &str,
) -> Result<(Vec<Value>, String)> {
    match source {
        Source::File(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}:{}: not JSON: {e}", p.display(), e.line()))?;
            let version = if looks_v3(&v) {
                "3.0 (from the records)"
            } else {
                "1.0 (from the records)"
            };
            Ok((items(&v), version.to_string()))
        }
        Source::Url(base) => {
            let host = base
                .host_str()
                .context("the feed address has no host")?
                .to_string();
            let mut f = Fetcher::new(FetchSettings {
                user_agent: super::user_agent(contact),
                min_interval: Duration::from_millis(250),
                hosts: vec![host],
                allow_private,
                timeout: Duration::from_secs(30),
                max_redirects: 5,
                max_retries: 3,
                max_retry_after: Duration::from_secs(60),
            });
            let base = if base.path().ends_with('/') {
                base.clone()
            } else {
                Url::parse(&format!("{base}/"))?
            };
            let get = |f: &mut Fetcher, u: Url| -> Result<Value> {
                let r = f
                    .get(&u, None, None, 20 * 1024 * 1024)
                    .map_err(|e| anyhow::anyhow!("{u}: {e}"))?;
                if !(200..300).contains(&r.status) {
                    bail!("{u} gave {}", r.status);
                }
                serde_json::from_slice(&r.body).map_err(|e| anyhow::anyhow!("{u} is not JSON: {e}"))
            };
            let version = get(&mut f, base.clone())
                .ok()
                .and_then(|v| s(&v, "version"))
                .unwrap_or_else(|| "not given".into());
            let mut all = Vec::new();
            let mut page = 1;
            loop {
                let u = base.join(&format!("services?page={page}&per_page=50"))?;
                let v = get(&mut f, u)?;
                let list = items(&v);
                if list.is_empty() {
                    break;
                }
                all.extend(list);
                let total = v
                    .get("totalPages")
                    .or_else(|| v.get("total_pages"))
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                let last = v
                    .get("last")
                    .or_else(|| v.get("last_page"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if last || page as u64 >= total || page >= 200 {
                    break;
                }
                page += 1;
            }
            // Thin list items: fetch the whole record.
            for item in &mut all {
                let thin = item.get("description").is_none()
                    && item.get("contacts").is_none()
                    && item.get("phones").is_none();
                if let (true, Some(id)) = (thin, s(item, "id")) {
                    if let Ok(full) = get(&mut f, base.join(&format!("services/{id}"))?) {
                        *item = full;
                    }
                }
            }
            Ok((all, version))
        }
    }
}

fn looks_v3(v: &Value) -> bool {
    let text = v.to_string();
    text.contains("\"attributes\"")
        || text.contains("\"schedules\"")
        || text.contains("\"contents\"")
}

/// The records of a page of results, or of a file (an array, a pager, or
/// `{"services": [...]}`).
pub(crate) fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => ["content", "contents", "services", "items"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array).cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Imports a directory into `kb`, staging one change per service.
pub fn import_services(
    source: &Source,
    kb: &Path,
    place: &super::Place,
    allow_private: bool,
    auto_apply: bool,
    contact: &str,
) -> Result<Report> {
    let state = State::open(place)?;
    let label = match source {
        Source::Url(u) => u.to_string(),
        Source::File(p) => p.display().to_string(),
    };
    let run = state.start_run("services", &label)?;
    let started = Instant::now();
    let mapping = Mapping::load(kb)?;
    let (raw, version) = match read_feed(source, allow_private, contact) {
        Ok(x) => x,
        Err(e) => {
            state.finish_run(run, "failed", &format!("{e:#}"))?;
            return Err(e);
        }
    };
    let mut report = Report {
        run,
        ..Default::default()
    };
    report
        .notes
        .push(format!("Open Referral UK version: {version}"));
    let existing: Vec<Value> = std::fs::read_to_string(kb.join(FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let by_id: BTreeMap<String, &Value> = existing
        .iter()
        .filter_map(|r| Some((s(r, "id")?, r)))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut unmapped: BTreeMap<String, usize> = BTreeMap::new();
    for (i, v) in raw.iter().enumerate() {
        let svc = match normalise(v, i + 1) {
            Ok(s) => s,
            Err(e) => {
                report.failed += 1;
                report.notes.push(e.clone());
                stage(
                    &state,
                    run,
                    "failed",
                    &format!("service:{}", i + 1),
                    None,
                    "",
                    &e,
                )?;
                continue;
            }
        };
        seen.insert(svc.id.clone());
        let (cats, missing) = mapping.categories(&svc.terms);
        for m in &missing {
            *unmapped.entry(m.clone()).or_default() += 1;
        }
        let rec = record(&svc, &cats);
        let target = format!("service:{}", svc.id);
        let note = if cats.is_empty() {
            format!(
                "no directory category: map one of its terms ({}) in {MAPPING}",
                svc.terms
                    .iter()
                    .map(|t| t.1.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        match by_id.get(&svc.id) {
            Some(old) if **old == rec => report.unchanged += 1,
            Some(old) => {
                report.changed += 1;
                let diff = field_diff(old, &rec).join("\n");
                state.supersede(&target, run)?;
                stage(
                    &state,
                    run,
                    if cats.is_empty() {
                        "flagged"
                    } else {
                        "changed"
                    },
                    &target,
                    Some(&rec),
                    &diff,
                    &note,
                )?;
            }
            None => {
                report.added += 1;
                state.supersede(&target, run)?;
                stage(
                    &state,
                    run,
                    if cats.is_empty() { "flagged" } else { "added" },
                    &target,
                    Some(&rec),
                    "new service",
                    &note,
                )?;
            }
        }
    }
    for id in by_id.keys().filter(|id| !seen.contains(*id)) {
        report.removed += 1;
        let target = format!("service:{id}");
        state.supersede(&target, run)?;
        stage(
            &state,
            run,
            "removed",
            &target,
            None,
            "",
            "no longer in the feed: approve to remove it from the directory",
        )?;
    }
    for (term, n) in &unmapped {
        report.notes.push(format!(
            "unmapped term '{term}' ({n} services): add it to {MAPPING}"
        ));
    }
    report.seconds = started.elapsed().as_secs_f64();
    if auto_apply {
        let ids: Vec<i64> = state
            .changes(Some(run), true)?
            .into_iter()
            .filter(|c| matches!(c.kind.as_str(), "added" | "changed"))
            .map(|c| c.id)
            .collect();
        report.applied = super::apply(kb, place, &ids, "automatic")?;
    }
    state.finish_run(run, "finished", &report.line())?;
    Ok(report)
}

fn stage(
    state: &State,
    run: i64,
    kind: &str,
    target: &str,
    rec: Option<&Value>,
    diff: &str,
    note: &str,
) -> Result<i64> {
    state.stage(&Change {
        id: 0,
        run,
        kind: kind.into(),
        target: target.into(),
        path: FILE.into(),
        url: String::new(),
        content: rec.map(|r| serde_json::to_string_pretty(r).unwrap_or_default()),
        diff: diff.into(),
        note: note.into(),
        status: "staged".into(),
    })
}

fn read_records(kb: &Path) -> Vec<Value> {
    std::fs::read_to_string(kb.join(FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn write_records(kb: &Path, records: &[Value]) -> Result<()> {
    let text = serde_json::to_string_pretty(records)? + "\n";
    crate::derived::write_atomic(&kb.join(FILE), |w| {
        Ok(std::io::Write::write_all(w, text.as_bytes())?)
    })
}

/// Writes one staged service record into the directory file.
pub fn apply_record(kb: &Path, c: &Change) -> Result<()> {
    let rec: Value = serde_json::from_str(c.content.as_deref().unwrap_or("null"))?;
    let id = s(&rec, "id").context("the staged service has no id")?;
    let mut records = read_records(kb);
    match records
        .iter_mut()
        .find(|r| s(r, "id").as_deref() == Some(id.as_str()))
    {
        Some(r) => *r = rec,
        None => records.push(rec),
    }
    write_records(kb, &records)
}

/// Removes one service from the directory file.
pub fn remove_record(kb: &Path, c: &Change) -> Result<()> {
    let id = c.target.trim_start_matches("service:");
    let mut records = read_records(kb);
    records.retain(|r| s(r, "id").as_deref() != Some(id));
    write_records(kb, &records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_days_read_as_residents_say_them() {
        assert_eq!(clock("10:00"), "10am");
        assert_eq!(clock("13:30:00"), "1:30pm");
        assert_eq!(clock("12:00"), "12 noon");
        assert_eq!(day_name("TU"), "Tuesday");
    }

    #[test]
    fn a_record_without_an_id_or_name_is_a_named_error() {
        assert_eq!(
            normalise(&json!({"name": "Lunch club"}), 3).unwrap_err(),
            "service 3 has no \"id\""
        );
        assert_eq!(
            normalise(&json!({"id": "s9"}), 4).unwrap_err(),
            "service s9 has no \"name\""
        );
    }
}
