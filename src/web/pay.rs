//! "Check what you might pay": an accessible form over the same calculator
//! the chat uses ([`crate::rules::calc::what_you_might_pay`]). It is a GET
//! form, so it works without JavaScript, changes nothing on the server, and
//! a result can be bookmarked or printed.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::html::{error_summary, esc, field_notes, layout, Prefs};
use super::WebState;
use super::{html_response, FieldError};
use crate::rules::calc::{what_you_might_pay, PayingAnswers};
use crate::rules::parse::{Amount, Approx, Occupant, Role, Setting};

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
                let mut r = String::from(
                    "<div class=\"result\" id=\"result\" tabindex=\"-1\" aria-labelledby=\"result-h\"><h2 id=\"result-h\">What you might pay</h2>",
                );
                for s in &calc.sentences {
                    let _ = write!(r, "<p>{}</p>", super::html::inline_text(s));
                }
                r.push_str("<p>This is a guide worked out from the council's rules. It is not a decision.</p>");
                r.push_str("<h3>Where these rules come from</h3><ul class=\"sources\">");
                for slug in &calc.pages {
                    if let Some(src) = engine.source(slug) {
                        let _ = write!(
                            r,
                            "<li><a href=\"{}\">{}</a></li>",
                            esc(&src.url),
                            esc(&src.title)
                        );
                    }
                }
                r.push_str("</ul></div>");
                (Vec::new(), Some(r))
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
    let body = form_page(
        state.service.config(),
        &prefs,
        &f,
        &errors,
        result.as_deref(),
    );
    html_response(status, body, None)
}

fn radios(
    m: &mut String,
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    chosen: &str,
    errors: &[FieldError],
) {
    let n = field_notes(name, hint, errors);
    let _ = write!(
        m,
        "<div class=\"field{}\"><fieldset class=\"radios-fieldset\"{}><legend class=\"label\">{}</legend>{}",
        n.class,
        n.described,
        esc(legend),
        n.html
    );
    for (i, (value, label)) in options.iter().enumerate() {
        // The first option carries the field's id, so the error summary can link to it.
        let id = if i == 0 {
            name.to_string()
        } else {
            format!("{name}-{value}")
        };
        let checked = if chosen == *value { " checked" } else { "" };
        let _ = write!(
            m,
            "<div class=\"check\"><input type=\"radio\" id=\"{id}\" name=\"{name}\" value=\"{value}\"{checked}><label for=\"{id}\">{}</label></div>",
            esc(label)
        );
    }
    m.push_str("</fieldset></div>");
}

fn form_page(
    config: &crate::config::Config,
    prefs: &Prefs,
    f: &PayForm,
    errors: &[FieldError],
    result: Option<&str>,
) -> String {
    let mut m = error_summary(errors);
    m.push_str("<h1>Check what you might pay for care</h1>");
    m.push_str("<p>Answer a few questions to see how your savings affect what you pay towards your care, and whether your home is counted. It takes about a minute. Nothing you enter is stored.</p>");
    if let Some(r) = result {
        m.push_str(r);
        m.push_str("<h2>Change your answers</h2>");
    }
    let _ = write!(
        m,
        "<form method=\"get\" action=\"{PATH}\" novalidate><input type=\"hidden\" name=\"check\" value=\"1\">"
    );
    radios(
        &mut m,
        "care",
        "Where will the care be?",
        None,
        &CARE,
        &f.care,
        errors,
    );
    let n = field_notes(
        "savings",
        Some("Include bank and building society accounts, shares and premium bonds. Do not include the value of your home. For example, £20,000 or 20 thousand."),
        errors,
    );
    let _ = write!(
        m,
        "<div class=\"field{}\"><label class=\"label\" for=\"savings\">About how much do you have in savings and investments?</label>{}<input class=\"input input-short\" type=\"text\" id=\"savings\" name=\"savings\" inputmode=\"decimal\" spellcheck=\"false\" autocomplete=\"off\" value=\"{}\"{}{}></div>",
        n.class,
        n.html,
        esc(&f.savings),
        n.described,
        n.invalid
    );
    radios(
        &mut m,
        "own",
        "If the care will be in a care home: do you own your home?",
        Some("Leave this out for care at home."),
        &OWN,
        &f.own,
        errors,
    );
    radios(
        &mut m,
        "lives",
        "If you own your home: who will still live there?",
        Some("Leave this out for care at home, or if you do not own your home."),
        &LIVES,
        &f.lives,
        errors,
    );
    m.push_str("<button type=\"submit\" class=\"button\">Check what I might pay</button></form>");
    let c = &config.council;
    let _ = write!(
        m,
        "<p>Only a financial assessment can say exactly what you will pay. To ask for one, call {} on {}, {}.</p>",
        esc(&c.front_door_name),
        super::html::inline_text(&c.phone),
        esc(&c.hours)
    );
    let title = if errors.is_empty() {
        "Check what you might pay for care"
    } else {
        "Error: Check what you might pay for care"
    };
    layout(config, prefs, title, &m)
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
