//! The staff page for imported content: what the last imports staged
//! (added, changed, flagged, failed and removed pages and services, each
//! with its diff and any problems `kb check` finds in it), approved or
//! rejected one at a time or all together. Behind the staff token, with a
//! form token, and audited. Approved changes are written to the knowledge
//! base and loaded at once, without a restart.

use std::fmt::Write as _;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::html::{layout, Prefs};
use super::{csrf_ok, csrf_token, html_response, WebState};
use crate::api::{ApiError, ErrorCode, Staff};
use crate::import::state::{Change, State as ImportState};
use crate::text::escape_html as esc;

pub const PATH: &str = "/staff/changes";

/// The list of staged changes, with the forms to decide them.
pub async fn page(State(state): State<WebState>, headers: HeaderMap, _: Staff) -> Response {
    let _ = state.service.store().audit("staff", "view", PATH);
    let (token, set) = csrf_token(&state, &headers);
    show(&state, &token, set, StatusCode::OK, None)
}

fn show(
    state: &WebState,
    token: &str,
    set: Option<axum::http::HeaderValue>,
    status: StatusCode,
    message: Option<&str>,
) -> Response {
    let config = state.service.config();
    let changes = ImportState::open(&config.data_dir).and_then(|s| s.changes(None, true));
    match changes {
        Ok(list) => html_response(
            status,
            layout(
                config,
                &Prefs::default(),
                "Changes from the council website",
                &changes_html(&list, token, message),
            ),
            set,
        ),
        Err(e) => {
            tracing::error!(error = %e, "the import record could not be read");
            ApiError::new(
                ErrorCode::Internal,
                "The import record could not be read; see the server log.",
            )
            .into_response()
        }
    }
}

/// The form each button sends.
#[derive(Debug, Deserialize)]
pub struct Decision {
    csrf: String,
    /// "approve" or "reject".
    action: String,
    /// A change's number, or "all" (every addition and change; removals are
    /// always decided one at a time).
    id: String,
}

pub async fn decide(
    State(state): State<WebState>,
    headers: HeaderMap,
    _: Staff,
    form: Result<Form<Decision>, FormRejection>,
) -> Response {
    let (token, set) = csrf_token(&state, &headers);
    let Ok(Form(d)) = form else {
        return show(
            &state,
            &token,
            set,
            StatusCode::BAD_REQUEST,
            Some("The form could not be read. Please try again."),
        );
    };
    if !csrf_ok(&headers, &d.csrf) {
        return show(
            &state,
            &token,
            set,
            StatusCode::FORBIDDEN,
            Some("This form had expired. Please try again."),
        );
    }
    let config = state.service.config().clone();
    let staged = match ImportState::open(&config.data_dir).and_then(|s| s.changes(None, true)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the import record could not be read");
            return show(
                &state,
                &token,
                set,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("The import record could not be read; see the server log."),
            );
        }
    };
    let ids: Vec<i64> = if d.id == "all" {
        staged
            .iter()
            .filter(|c| c.content.is_some() && matches!(c.kind.as_str(), "added" | "changed"))
            .map(|c| c.id)
            .collect()
    } else {
        match d.id.parse::<i64>() {
            Ok(id) if staged.iter().any(|c| c.id == id) => vec![id],
            _ => {
                return show(
                    &state,
                    &token,
                    set,
                    StatusCode::BAD_REQUEST,
                    Some("That change is no longer waiting: someone may have decided it already."),
                );
            }
        }
    };
    let approve = match d.action.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return show(
                &state,
                &token,
                set,
                StatusCode::BAD_REQUEST,
                Some("Choose approve or reject."),
            )
        }
    };
    let kb = config.kb.dir.clone();
    let data = config.data_dir.clone();
    let ids_done = ids.clone();
    let result = tokio::task::spawn_blocking(move || {
        if approve {
            crate::import::apply(&kb, &data, &ids_done, "staff (web)")
        } else {
            crate::import::reject(&data, &ids_done, "staff (web)")
        }
    })
    .await;
    let what = if approve { "approved" } else { "rejected" };
    let ids_text = ids
        .iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match result {
        Ok(Ok(n)) => {
            let _ = state.service.store().audit("staff", what, &ids_text);
            tracing::info!(
                changes = n,
                decision = what,
                "staff decided imported changes"
            );
            if approve && n > 0 {
                state.service.reload_in_background().await;
            }
            format!(
                "{n} change(s) {what}{}.",
                if approve && n > 0 {
                    " and now used in answers"
                } else {
                    ""
                }
            )
        }
        Ok(Err(e)) => format!("Nothing was {what}: {e:#}."),
        Err(e) => format!("Nothing was {what}: {e}."),
    };
    show(&state, &token, set, StatusCode::OK, Some(&message))
}

fn button(token: &str, action: &str, id: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{PATH}\" class=\"inline-form\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"action\" value=\"{action}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><button type=\"submit\">{label}</button></form>",
        esc(token),
        esc(id)
    )
}

fn changes_html(list: &[Change], token: &str, message: Option<&str>) -> String {
    let mut m = String::from("<h1>Changes from the council website</h1>");
    if let Some(msg) = message {
        let _ = write!(
            m,
            "<div class=\"notice\" role=\"status\"><p>{}</p></div>",
            esc(msg)
        );
    }
    if list.is_empty() {
        m.push_str("<p>Nothing is waiting for approval.</p>");
        return m;
    }
    let _ = write!(
        m,
        "<p>{} change(s) are waiting. Added and changed pages are used in answers once approved. Removals always need a person.</p>",
        list.len()
    );
    if list
        .iter()
        .any(|c| c.content.is_some() && matches!(c.kind.as_str(), "added" | "changed"))
    {
        m.push_str(&button(
            token,
            "approve",
            "all",
            "Approve all additions and changes",
        ));
    }
    for c in list {
        let _ = write!(
            m,
            "<section class=\"change\" aria-labelledby=\"change-{id}\"><h2 id=\"change-{id}\">#{id} {kind}: {target}</h2><p><a href=\"{url}\">{url_text}</a></p>",
            id = c.id,
            kind = esc(&c.kind),
            target = esc(&c.target),
            url = esc(&c.url),
            url_text = esc(&c.url)
        );
        if !c.note.is_empty() {
            m.push_str("<ul class=\"problems\">");
            for n in c.note.lines() {
                let _ = write!(m, "<li>{}</li>", esc(n));
            }
            m.push_str("</ul>");
        }
        if !c.diff.is_empty() {
            let _ = write!(
                m,
                "<details><summary>What changed</summary><pre>{}</pre></details>",
                esc(&c.diff)
            );
        }
        let can_apply = c.content.is_some() || c.kind == "removed";
        if can_apply {
            m.push_str(&button(
                token,
                "approve",
                &c.id.to_string(),
                &format!("Approve #{}", c.id),
            ));
        }
        m.push_str(&button(
            token,
            "reject",
            &c.id.to_string(),
            &format!("Reject #{}", c.id),
        ));
        m.push_str("</section>");
    }
    m
}
