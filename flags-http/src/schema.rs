//! What the OpenAPI document says of the refusals the admin routes share (feature `openapi`):
//! one response per way each of [`Denied`] and [`Refused`] answers, the body an [`ErrorBody`].

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, ResponsesBuilder};
use utoipa::{IntoResponses, ToSchema};

use crate::error::{Denied, ErrorBody, Refused};

/// `responses`, each a status and what it means, with a JSON [`ErrorBody`].
fn described(responses: &[(&str, &str)]) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .build();
    responses
        .iter()
        .fold(ResponsesBuilder::new(), |builder, (status, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", body.clone());
            builder.response(*status, response)
        })
        .build()
        .into()
}

impl IntoResponses for Denied {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        described(&[
            ("401", "No token: `WWW-Authenticate: Bearer`."),
            (
                "403",
                "A wrong token, or no token configured (the admin API is off).",
            ),
            (
                "429",
                "Too many failed authentications from this address: `Retry-After` says when to \
                 retry.",
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
            ),
            (
                "412",
                "`If-Match` names a version the flags are no longer at. Nothing changed.",
            ),
            (
                "422",
                "The change would not load: each problem listed. Nothing changed.",
            ),
            (
                "503",
                "The store of live flags cannot keep the change now (nothing changed), or did not \
                 answer in time (the change may have been made: read the flags before retrying).",
            ),
        ])
    }
}
