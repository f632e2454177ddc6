//! The local services directory: Open Referral UK (HSDS-UK) service records.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{Problem, Service};

/// Directory categories a service can be filed under (`signpost-category`).
pub const CATEGORIES: [&str; 15] = [
    "befriending",
    "lunch-clubs",
    "carers-groups",
    "dementia-cafes",
    "advocacy",
    "community-transport",
    "benefits-advice",
    "exercise-and-falls",
    "day-opportunities",
    "sensory-support",
    "mental-health-peer-support",
    "learning-disability-groups",
    "digital-skills",
    "food-support",
    "bereavement-support",
];

const VOCABULARY: &str = "signpost-category";

/// Parses one services file. Valid records are returned; every problem is
/// pushed with the line of the record (or field) it concerns.
pub(super) fn parse_services(
    path: &Path,
    text: &str,
    seen: &mut HashMap<String, String>,
    problems: &mut Vec<Problem>,
) -> Vec<Service> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(Problem::error(
                path,
                e.line(),
                format!("not valid JSON: {e}"),
            ));
            return Vec::new();
        }
    };
    let records = match &value {
        Value::Array(a) => a.as_slice(),
        Value::Object(o) => match o.get("services") {
            Some(Value::Array(a)) => a.as_slice(),
            _ => {
                problems.push(Problem::error(
                    path,
                    1,
                    "expected a JSON array of services (or an object with a \"services\" array)"
                        .into(),
                ));
                return Vec::new();
            }
        },
        _ => {
            problems.push(Problem::error(
                path,
                1,
                "expected a JSON array of services".into(),
            ));
            return Vec::new();
        }
    };
    let starts = record_offsets(text);
    let mut out = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let (start, end) = starts.get(i).copied().unwrap_or((0, text.len()));
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let record_line = line_of(start);
        // Line of a field inside this record, for precise messages.
        let field_line = |key: &str| -> usize {
            text[start..end]
                .find(&format!("\"{key}\""))
                .map(|o| line_of(start + o))
                .unwrap_or(record_line)
        };
        let before = problems.len();
        let mut err = |line: usize, msg: String| problems.push(Problem::error(path, line, msg));
        let Value::Object(_) = rec else {
            err(
                record_line,
                format!("service {} is not a JSON object", i + 1),
            );
            continue;
        };
        let s = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let id = s(rec, "id");
        let label = id.clone().unwrap_or_else(|| format!("service {}", i + 1));
        for key in ["id", "name", "description", "status"] {
            if s(rec, key).is_none() {
                err(record_line, format!("{label}: missing or empty \"{key}\""));
            }
        }
        let org = rec.get("organization");
        let org_name = org.and_then(|o| s(o, "name"));
        if org_name.is_none() {
            err(
                field_line("organization"),
                format!("{label}: missing \"organization\" with a \"name\""),
            );
        }
        let phones: Vec<String> = rec
            .get("contacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| {
                c.get("phones")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|p| s(p, "number"))
            .collect();
        for p in &phones {
            if p.chars().filter(char::is_ascii_digit).count() < 3 {
                err(
                    field_line("number"),
                    format!("{label}: phone number '{p}' has too few digits"),
                );
            }
        }
        let email = s(rec, "email");
        if phones.is_empty() && email.is_none() {
            err(record_line, format!("{label}: give at least one phone number (contacts[].phones[].number) or an \"email\""));
        }
        let address = rec
            .get("service_at_locations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|sal| sal.get("location"))
            .find_map(|loc| {
                let addr = loc
                    .get("physical_addresses")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first());
                let name = s(loc, "name");
                let parts: Vec<String> = [name]
                    .into_iter()
                    .chain(
                        addr.map(|a| ["address_1", "city", "postal_code"].map(|k| s(a, k)))
                            .into_iter()
                            .flatten(),
                    )
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            });
        let areas: Vec<String> = rec
            .get("service_areas")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| s(a, "service_area"))
            .collect();
        if address.is_none() && areas.is_empty() {
            err(field_line("service_at_locations"), format!("{label}: give a location (service_at_locations[].location) or a \"service_areas\" entry"));
        }
        let mut categories = Vec::new();
        for t in rec
            .get("service_taxonomys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(tax) = t.get("taxonomy") else {
                continue;
            };
            if s(tax, "vocabulary").as_deref() == Some(VOCABULARY) {
                if let Some(name) = s(tax, "name") {
                    categories.push(name);
                }
            }
        }
        if categories.is_empty() {
            err(field_line("service_taxonomys"), format!("{label}: needs a taxonomy term with vocabulary \"{VOCABULARY}\" naming its category"));
        }
        for c in &categories {
            if !CATEGORIES.contains(&c.as_str()) {
                problems.push(Problem::warning(
                    path,
                    field_line("service_taxonomys"),
                    format!(
                        "{label}: unknown category '{c}' (known: {})",
                        CATEGORIES.join(", ")
                    ),
                ));
            }
        }
        if let Some(id) = &id {
            let here = format!("{}:{}", path.display(), record_line);
            if let Some(first) = seen.insert(id.clone(), here) {
                problems.push(Problem::error(
                    path,
                    record_line,
                    format!("duplicate service id '{id}' (first used at {first})"),
                ));
            }
        }
        if problems[before..].iter().any(Problem::is_error) {
            continue;
        }
        let first_text = |key: &str, field: &str| {
            rec.get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|v| s(v, field))
        };
        out.push(Service {
            id: id.unwrap_or_default(),
            name: s(rec, "name").unwrap_or_default(),
            description: s(rec, "description").unwrap_or_default(),
            organization: org_name.unwrap_or_default(),
            categories,
            phone: phones.first().cloned(),
            email,
            url: s(rec, "url"),
            address,
            areas,
            schedule: first_text("regular_schedules", "description"),
            eligibility: first_text("eligibilitys", "eligibility"),
            cost: s(rec, "fees").or_else(|| first_text("cost_options", "option")),
        });
    }
    out
}

/// Byte ranges of the top-level objects of a JSON array (or of the array
/// under a top-level object's key), found by scanning brackets outside strings.
fn record_offsets(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    let mut array_depth = None;
    let mut starts = Vec::new();
    let mut open = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if b == b'[' && array_depth.is_none() {
                    array_depth = Some(depth);
                } else if b == b'{' && Some(depth - 1) == array_depth {
                    open = Some(i);
                }
            }
            b']' | b'}' => {
                if b == b'}' && Some(depth - 1) == array_depth {
                    if let Some(s) = open.take() {
                        starts.push((s, i + 1));
                    }
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_offsets_skip_braces_in_strings() {
        let t = "[\n {\"a\": \"}{\"},\n {\"b\": [1, {\"c\": 2}]}\n]";
        let r = record_offsets(t);
        assert_eq!(r.len(), 2);
        assert!(t[r[1].0..r[1].1].starts_with("{\"b\""));
    }
}
