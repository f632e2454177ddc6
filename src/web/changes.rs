//! The staff page for imported content: what the last imports staged
//! (added, changed, flagged, failed and removed pages and services, each
//! with its diff and any problems `kb check` finds in it), approved or
//! rejected one at a time or all together. Behind the staff token, with a
//! form token, and audited. Approved changes are written to the knowledge
//! base and loaded at once, without a restart.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::html::{layout, Prefs};
use super::{csrf_ok, csrf_token, html_response, WebState};
use crate::api::{ApiError, ErrorCode, Staff};
use crate::import::state::{Change, Place, State as ImportState};
use askama::Template;

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
    let changes = ImportState::open(&Place::configured(config)).and_then(|s| s.changes(None, true));
    match changes {
        Ok(list) => html_response(
            status,
            layout(
                config,
                &Prefs::default(),
                "Changes from the council website",
                &changes_html(config.base_path(), &list, token, message),
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
    let staged =
        match ImportState::open(&Place::configured(&config)).and_then(|s| s.changes(None, true)) {
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
    let record = Place::configured(&config);
    let ids_done = ids.clone();
    let result = tokio::task::spawn_blocking(move || {
        if approve {
            crate::import::apply(&kb, &record, &ids_done, "staff (web)")
        } else {
            crate::import::reject(&record, &ids_done, "staff (web)")
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

#[derive(Template)]
#[template(path = "changes.html")]
struct ChangesBody<'a> {
    base: String,
    path: &'static str,
    list: &'a [Change],
    token: &'a str,
    message: Option<&'a str>,
    any_to_apply: bool,
}

fn changes_html(base: String, list: &[Change], token: &str, message: Option<&str>) -> String {
    let body = ChangesBody {
        base,
        path: PATH,
        list,
        token,
        message,
        any_to_apply: list
            .iter()
            .any(|c| c.content.is_some() && matches!(c.kind.as_str(), "added" | "changed")),
    };
    body.render().unwrap_or_default()
}
