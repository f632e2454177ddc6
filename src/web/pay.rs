//! "Check what you might pay": an accessible form over the same calculator
//! the chat uses ([`crate::rules::calc::what_you_might_pay`]). It is a GET
//! form, so it works without JavaScript, changes nothing on the server, and
//! a result can be bookmarked or printed.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::html::{layout, line, Line, Notes, Prefs, Seg};
use super::WebState;
use super::{html_response, FieldError};
use crate::rules::calc::{what_you_might_pay, PayingAnswers};
use crate::rules::parse::{Amount, Approx, Occupant, Role, Setting};
use askama::Template;

pub const PATH: &str = "/check-what-you-might-pay";

#[derive(Debug, Default, Deserialize)]
pub struct PayForm {
    #[serde(default)]
    pub care: String,
    #[serde(default)]
    pub savings: String,
    #[serde(default)]
    pub own: String,
    #[serde(default)]
    pub lives: String,
    /// Set by the form's hidden field: the form was sent (even empty).
    #[serde(default)]
    pub check: Option<String>,
}

const CARE: [(&str, &str); 2] = [
    ("home", "Care and support at home"),
    ("care-home", "A care home"),
];
const OWN: [(&str, &str); 2] = [("yes", "Yes"), ("no", "No")];
const LIVES: [(&str, &str); 5] = [
    ("partner", "My husband, wife or partner"),
    ("relative60", "A relative aged 60 or over"),
    ("disabled", "A disabled relative"),
    ("child", "A child under 18 I support"),
    ("none", "No one, or someone else"),
];

/// Reads an amount as people write it: "£20,000", "20k", "20 grand",
/// "twenty thousand", "about 20,000", "none".
pub fn parse_savings(text: &str) -> Option<Amount> {
    let t = text.trim().to_lowercase();
    if matches!(
        t.as_str(),
        "0" | "£0" | "none" | "nothing" | "no savings" | "nil"
    ) {
        return Some(Amount {
            value: 0.0,
            approx: Approx::Exact,
            role: Role::Savings,
        });
    }
    crate::rules::parse::facts(&format!("my savings are {t}"))
        .savings()
        .filter(|a| a.value >= 0.0 && a.value < 100_000_000.0)
}

/// Checks the form; returns the answers or the problems, in field order.
pub fn read(f: &PayForm) -> Result<PayingAnswers, Vec<FieldError>> {
    let mut errors = Vec::new();
    let setting = match f.care.as_str() {
        "home" => Some(Setting::Home),
        "care-home" => Some(Setting::CareHome),
        _ => {
            errors.push(FieldError {
                field: "care",
                message: "Choose where the care will be",
            });
            None
        }
    };
    let savings = if f.savings.trim().is_empty() {
        errors.push(FieldError {
            field: "savings",
            message:
                "Enter about how much you have in savings, like £20,000. Enter 0 if you have none",
        });
        None
    } else {
        let s = parse_savings(&f.savings);
        if s.is_none() {
            errors.push(FieldError {
                field: "savings",
                message: "Enter savings as an amount of money, like £20,000 or 20 thousand",
            });
        }
        s
    };
    let care_home = setting == Some(Setting::CareHome);
    let owns = match f.own.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    if care_home && owns.is_none() {
        errors.push(FieldError {
            field: "own",
            message: "Choose whether you own your home",
        });
    }
    let occupant = match f.lives.as_str() {
        "partner" => Some(Occupant::Partner),
        "relative60" => Some(Occupant::RelativeOver60),
        "disabled" => Some(Occupant::DisabledRelative),
        "child" => Some(Occupant::Child),
        "none" => Some(Occupant::NoneThatCounts),
        _ => None,
    };
    if care_home && owns == Some(true) && occupant.is_none() {
        errors.push(FieldError {
            field: "lives",
            message: "Choose who will still live in your home",
        });
    }
    match (setting, savings) {
        (Some(setting), Some(savings)) if errors.is_empty() => Ok(PayingAnswers {
            savings,
            setting,
            owns_home: care_home && owns == Some(true),
            occupant,
        }),
        _ => Err(errors),
    }
}

pub async fn page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(f): Query<PayForm>,
) -> Response {
    let prefs = Prefs::from_headers(&headers);
    let submitted = f.check.is_some()
        || !(f.care.is_empty() && f.savings.is_empty() && f.own.is_empty() && f.lives.is_empty());
    let (errors, result) = if submitted {
        match read(&f) {
            Ok(a) => {
                let engine = state.service.engine();
                let calc = what_you_might_pay(&a, engine.rules(), &engine.config().council);
                let result = PayResult {
                    sentences: calc.sentences.iter().map(|s| line(s)).collect(),
                    sources: calc.pages.iter().filter_map(|p| engine.source(p)).collect(),
                };
                (Vec::new(), Some(result))
            }
            Err(e) => (e, None),
        }
    } else {
        (Vec::new(), None)
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = form_page(state.service.config(), &prefs, &f, &errors, result);
    html_response(status, body, None)
}

/// What the calculator worked out, with the pages it comes from.
struct PayResult {
    sentences: Vec<Line>,
    sources: Vec<crate::pipeline::Source>,
}

/// One radio button of a group.
struct RadioOption {
    id: String,
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// A group of radio buttons with its legend, hint and error.
struct Radios {
    notes: Notes,
    legend: &'static str,
    options: Vec<RadioOption>,
}

fn radios(
    name: &'static str,
    legend: &'static str,
    hint: Option<&'static str>,
    options: &[(&'static str, &'static str)],
    chosen: &str,
    errors: &[FieldError],
) -> Radios {
    Radios {
        notes: Notes::new(name, hint, errors),
        legend,
        options: options
            .iter()
            .enumerate()
            .map(|(i, &(value, label))| RadioOption {
                // The first option carries the field's id, so the error
                // summary can link to it.
                id: if i == 0 {
                    name.to_string()
                } else {
                    format!("{name}-{value}")
                },
                value,
                label,
                checked: chosen == value,
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage<'a> {
    base: String,
    path: &'static str,
    errors: &'a [FieldError],
    result: Option<PayResult>,
    care: Radios,
    savings: Notes,
    savings_value: &'a str,
    own: Radios,
    lives: Radios,
    front: &'a str,
    phone: Line,
    hours: &'a str,
}

fn form_page(
    config: &crate::config::Config,
    prefs: &Prefs,
    f: &PayForm,
    errors: &[FieldError],
    result: Option<PayResult>,
) -> String {
    let c = &config.council;
    let page = PayPage {
        base: config.base_path(),
        path: PATH,
        errors,
        result,
        care: radios("care", "Where will the care be?", None, &CARE, &f.care, errors),
        savings: Notes::new(
            "savings",
            Some("Include bank and building society accounts, shares and premium bonds. Do not include the value of your home. For example, £20,000 or 20 thousand."),
            errors,
        ),
        savings_value: &f.savings,
        own: radios(
            "own",
            "If the care will be in a care home: do you own your home?",
            Some("Leave this out for care at home."),
            &OWN,
            &f.own,
            errors,
        ),
        lives: radios(
            "lives",
            "If you own your home: who will still live there?",
            Some("Leave this out for care at home, or if you do not own your home."),
            &LIVES,
            &f.lives,
            errors,
        ),
        front: &c.front_door_name,
        phone: line(&c.phone),
        hours: &c.hours,
    };
    let title = if errors.is_empty() {
        "Check what you might pay for care"
    } else {
        "Error: Check what you might pay for care"
    };
    let main = page.render().unwrap_or_default();
    layout(config, prefs, title, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_ordinary_words() {
        for (text, value) in [
            ("£20,000", 20_000.0),
            ("20k", 20_000.0),
            ("20 grand", 20_000.0),
            ("twenty thousand pounds", 20_000.0),
            ("about 20,000", 20_000.0),
            ("none", 0.0),
            ("14250", 14_250.0),
        ] {
            let a = parse_savings(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(a.value, value, "{text}");
        }
        assert!(parse_savings("lots").is_none());
    }

    #[test]
    fn the_form_asks_only_what_applies() {
        let home = PayForm {
            care: "home".into(),
            savings: "20k".into(),
            ..Default::default()
        };
        assert!(read(&home).is_ok());
        let care_home = PayForm {
            care: "care-home".into(),
            savings: "20k".into(),
            own: "yes".into(),
            ..Default::default()
        };
        let e = read(&care_home).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "lives");
        let fields: Vec<_> = read(&PayForm {
            savings: "lots".into(),
            ..Default::default()
        })
        .unwrap_err()
        .iter()
        .map(|e| e.field)
        .collect();
        assert_eq!(fields, ["care", "savings"]);
    }
}
