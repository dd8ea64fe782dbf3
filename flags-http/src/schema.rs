//! What the OpenAPI document says of the refusals the admin routes share (feature `openapi`):
//! one response per way each of [`TurnedAway`] and [`Refused`] answers, the body an
//! [`ErrorBody`].

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, ResponsesBuilder};
use utoipa::{IntoResponses, ToSchema};

use crate::error::{ErrorBody, OUTCOME_UNKNOWN, Refused, TurnedAway};

/// One response: its status, what it means, and the header it comes with (its name and what it
/// says), if any.
type Described<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);

/// `responses`, each with a JSON [`ErrorBody`].
fn described(responses: &[Described<'_>]) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .build();
    responses
        .iter()
        .fold(
            ResponsesBuilder::new(),
            |builder, (status, description, header)| {
                let mut response = ResponseBuilder::new()
                    .description(*description)
                    .content("application/json", body.clone());
                if let Some((name, says)) = header {
                    let header = HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::String))
                        .description(Some(*says));
                    response = response.header(*name, header.build());
                }
                builder.response(*status, response)
            },
        )
        .build()
        .into()
}

impl IntoResponses for TurnedAway {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        described(&[
            (
                "401",
                "No token: `WWW-Authenticate: Bearer`.",
                Some(("WWW-Authenticate", "`Bearer realm=\"flags admin\"`")),
            ),
            (
                "403",
                "A wrong token, a read-only token asking for a change, or no token configured (the \
                 admin API is off).",
                None,
            ),
            (
                "429",
                "Too many failed authentications from this address: `Retry-After` says when to \
                 retry.",
                Some(("Retry-After", "Seconds until the address is let in again")),
            ),
        ])
    }
}

impl IntoResponses for Refused {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        described(&[
            (
                "409",
                "Without `If-Match`: changes through other instances kept overtaking this one; \
                 for a rollback, there is no earlier version to go back to; or the change names \
                 a flag a flag service manages (the message names it). Nothing changed.",
                None,
            ),
            (
                "412",
                "`If-Match` names a version the flags are no longer at. Nothing changed.",
                Some(("ETag", "The flags' tag, to redo the change on")),
            ),
            (
                "422",
                "The change would not load: each problem listed; or its `Idempotency-Key` is \
                 another change's. Nothing changed.",
                None,
            ),
            (
                "503",
                "The store of live flags cannot keep the change now. Nothing changed.",
                None,
            ),
            ("504", OUTCOME_UNKNOWN, None),
        ])
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::response::IntoResponse;

    use super::*;
    use crate::error::Denied;
    use crate::error::Error;

    /// What the document says each type answers is what it answers: every way of each, as a
    /// response, has a status its description lists.
    #[test]
    fn each_refusal_answers_a_status_its_description_lists() {
        let statuses =
            |responses: BTreeMap<String, _>| -> Vec<String> { responses.into_keys().collect() };
        let turned_away = [
            TurnedAway::Denied(Denied::Missing),
            TurnedAway::Denied(Denied::Invalid),
            TurnedAway::Denied(Denied::Disabled),
            TurnedAway::Denied(Denied::ReadOnly),
            TurnedAway::TooManyFailures {
                retry_after: Duration::from_secs(1),
            },
        ];
        let listed = statuses(TurnedAway::responses());
        for turned_away in turned_away {
            let status = Error::from(turned_away).into_response().status();
            assert!(listed.contains(&status.as_str().to_owned()), "{status}");
        }
        let refused = [
            Refused::Conflict {
                message: String::new(),
                tag: None,
            },
            Refused::PreconditionFailed {
                message: String::new(),
                tag: None,
            },
            Refused::Unprocessable {
                message: String::new(),
                problems: Vec::new(),
            },
            Refused::Unavailable,
            Refused::OutcomeUnknown,
        ];
        let listed = statuses(Refused::responses());
        for refused in refused {
            let status = Error::from(refused).into_response().status();
            assert!(listed.contains(&status.as_str().to_owned()), "{status}");
        }
    }
}
