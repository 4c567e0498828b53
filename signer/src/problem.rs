//! RFC 9457 problem details (`application/problem+json`) for every error the API returns.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::tx::FieldError;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem detail. `kind` names it (`unknown_key`, `max_value_exceeded`, ...) and is
/// turned into the `type` URI; policy refusals and request errors also carry it as `rule`.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `urn:tessera:signer:problem:<kind>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, fixed summary of the problem type.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The rule that refused, for refusals and request errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// The first invalid field, for `invalid_request`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field, for `invalid_request`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request id, as in the `X-Request-Id` response header and the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// A problem of kind `kind` with HTTP `status`.
    #[must_use]
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            type_uri: format!("urn:tessera:signer:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            rule: None,
            field: None,
            errors: Vec::new(),
            request_id: None,
        }
    }

    /// A refusal naming `rule` (which is also the problem kind).
    #[must_use]
    pub fn refusal(
        status: StatusCode,
        rule: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            rule: Some(rule),
            ..Self::new(status, rule, title, detail)
        }
    }

    /// Attaches the request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: &str) -> Self {
        self.request_id = Some(request_id.to_owned());
        self
    }

    /// Attaches field errors; the first also becomes `field`.
    #[must_use]
    pub fn with_fields(mut self, errors: Vec<FieldError>) -> Self {
        self.field = errors.first().map(|e| e.field.clone());
        self.errors = errors;
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
