//! The API's documentation while `ENABLE_API_DOCS` is on: `GET /openapi.json`, the OpenAPI 3.1
//! document of every route (flags-http's and the server's own), and `GET /docs`, a page rendered
//! from that document on the server: self-contained, with no script and nothing loaded from
//! elsewhere. Both are 404 while the flag is off; it is read for each request.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde_json::Value;
use utoipa::OpenApi;

use super::Flags;
use super::error::{Error, ErrorBody};
use super::headers::ContentSecurityPolicy;
use super::limit;

/// The page's style: inline, so the page needs nothing else, and allowed by its hash alone.
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;max-width:62rem;\
margin:0 auto;padding:1rem clamp(.75rem,4vw,2rem)}h1 small{font-weight:normal;color:#666}\
code{font-family:ui-monospace,monospace;font-size:.9em;background:#f2f2f2;padding:0 .2em;\
overflow-wrap:anywhere}article{border-top:1px solid #ddd;padding:.5rem 0}h3 code{background:none}\
.method{font:bold .85em ui-monospace,monospace;background:#e6edfa;padding:.1em .4em;\
border-radius:3px}.summary{font-weight:bold}table{border-collapse:collapse;width:100%;\
margin:.5rem 0;display:block;overflow-x:auto}th,td{border:1px solid #ddd;padding:.25rem .5rem;\
text-align:left;vertical-align:top}th{background:#f6f6f6}nav ul{padding-left:0}\
nav li{list-style:none}p,li,td{overflow-wrap:anywhere}pre{white-space:pre-wrap;\
overflow-wrap:anywhere}";

/// The page's `Content-Security-Policy`: its inline style, by the SHA-256 of [`STYLE`] (which
/// the test of the page checks), and nothing else: no script, no image, no frame, no form.
const PAGE_POLICY: &str = "default-src 'none'; \
     style-src 'sha256-PpVDGHclwFA5ArTRlbsprFAmWiHlDfn6/KYaqjESNzc='; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The document and its page, rendered once: neither changes while the server runs.
pub(crate) struct Docs {
    flags: Flags,
    json: Bytes,
    page: Bytes,
}

impl Docs {
    pub(crate) fn new(flags: Flags) -> Result<Self, serde_json::Error> {
        let document = serde_json::to_value(document())?;
        Ok(Self {
            flags,
            json: Bytes::from(serde_json::to_vec(&document)?),
            page: Bytes::from(page(&document)),
        })
    }

    /// Whether the docs are served now.
    fn on(&self) -> Result<(), Error> {
        if self.flags.get().enable_api_docs {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

pub(crate) fn router(docs: Arc<Docs>) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
        .with_state(docs)
}

/// The document of every route: flags-http's, the server's own, and the rate limit's answer on
/// the public routes.
fn document() -> utoipa::openapi::OpenApi {
    let mut document = flags_http::openapi();
    document.merge(ServerRoutes::openapi());
    limit::document(&mut document);
    document.info.title = "rose".to_owned();
    document.info.description = Some(
        "The seed application's feature flags, served live by `rose serve`: the public flags \
         for frontends, health, an admin API that changes flags without a restart (audited, \
         with rollback), this documentation and metrics."
            .to_owned(),
    );
    document
}

#[derive(OpenApi)]
#[openapi(
    paths(openapi_json, docs_page, super::prometheus::render),
    components(schemas(ErrorBody)),
    tags((name = "server", description = "The server's own routes: its documentation and metrics")),
)]
struct ServerRoutes;

/// The OpenAPI document
///
/// This document: every route the server serves, as OpenAPI 3.1 JSON.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "server",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", body = Object),
        (status = 404, description = "ENABLE_API_DOCS is off", body = ErrorBody),
    ),
)]
async fn openapi_json(State(docs): State<Arc<Docs>>) -> Result<Response, Error> {
    docs.on()?;
    let content_type = HeaderValue::from_static("application/json");
    Ok(([(CONTENT_TYPE, content_type)], docs.json.clone()).into_response())
}

/// The documentation page
///
/// The OpenAPI document as a page: each operation with its parameters and responses, and each
/// schema.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "docs",
    tag = "server",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 404, description = "ENABLE_API_DOCS is off", body = ErrorBody),
    ),
)]
async fn docs_page(State(docs): State<Arc<Docs>>) -> Result<Response, Error> {
    docs.on()?;
    let content_type = HeaderValue::from_static("text/html; charset=utf-8");
    let mut response = ([(CONTENT_TYPE, content_type)], docs.page.clone()).into_response();
    response
        .extensions_mut()
        .insert(ContentSecurityPolicy(PAGE_POLICY));
    Ok(response)
}

/// The methods an OpenAPI path item may have, in the order the page lists them.
const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// One operation of the document.
struct Operation<'a> {
    method: &'static str,
    path: &'a str,
    operation: &'a Value,
}

impl Operation<'_> {
    /// The first of its tags, which the page groups it under.
    fn tag(&self) -> Option<&str> {
        self.operation["tags"][0].as_str()
    }

    /// The page's anchor of the operation.
    fn anchor(&self) -> String {
        match self.operation["operationId"].as_str() {
            Some(id) => format!("operation-{id}"),
            None => format!("operation-{}-{}", self.method, self.path),
        }
    }
}

/// The page of `document`, an OpenAPI document as JSON: its operations by tag, each with its
/// method, path, summary, description, security, parameters, request body and responses; then
/// its schemas.
fn page(document: &Value) -> String {
    let info = &document["info"];
    let title = info["title"].as_str().unwrap_or("API");
    let mut html = Html(String::new());
    html.markup("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .markup("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .markup("<title>")
        .text(title)
        .markup(": API documentation</title>\n<style>")
        .markup(STYLE)
        .markup("</style>\n</head>\n<body>\n<header>\n<h1>")
        .text(title)
        .markup(" <small>")
        .text(info["version"].as_str().unwrap_or_default())
        .markup("</small></h1>\n");
    if let Some(description) = info["description"].as_str() {
        html.prose(description);
    }
    html.markup("<p>The OpenAPI ")
        .text(document["openapi"].as_str().unwrap_or_default())
        .markup(" document: <a href=\"/openapi.json\"><code>/openapi.json</code></a></p>\n")
        .markup("</header>\n");

    let groups = groups(document);
    html.markup("<nav>\n<h2>Operations</h2>\n<ul>\n");
    for operation in groups.iter().flat_map(|group| &group.operations) {
        html.markup("<li><a href=\"#")
            .text(&operation.anchor())
            .markup("\"><span class=\"method\">")
            .text(&operation.method.to_uppercase())
            .markup("</span> <code>")
            .text(operation.path)
            .markup("</code></a> ")
            .text(operation.operation["summary"].as_str().unwrap_or_default())
            .markup("</li>\n");
    }
    html.markup("</ul>\n</nav>\n");
    for group in &groups {
        html.markup("<section>\n<h2>")
            .text(group.name)
            .markup("</h2>\n");
        if let Some(description) = group.description {
            html.prose(description);
        }
        group
            .operations
            .iter()
            .for_each(|operation| html.operation(operation));
        html.markup("</section>\n");
    }

    if let Some(schemas) = document["components"]["schemas"].as_object() {
        html.markup("<section>\n<h2>Schemas</h2>\n");
        for (name, schema) in schemas {
            html.schema_definition(name, schema);
        }
        html.markup("</section>\n");
    }
    html.markup("</body>\n</html>\n");
    html.0
}

/// The operations under one tag, which the page shows together.
struct Group<'a> {
    name: &'a str,
    description: Option<&'a str>,
    operations: Vec<Operation<'a>>,
}

/// The operations of `document` by their first tag, in the order of the document's tags, then
/// those with a tag it does not name, or none.
fn groups(document: &Value) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| Group {
            name: tag["name"].as_str().unwrap_or_default(),
            description: tag["description"].as_str(),
            operations: Vec::new(),
        })
        .collect();
    let mut others = Group {
        name: "Other operations",
        description: None,
        operations: Vec::new(),
    };
    for operation in operations(document) {
        let tag = operation.tag();
        let group = groups.iter_mut().find(|group| Some(group.name) == tag);
        group.unwrap_or(&mut others).operations.push(operation);
    }
    groups.push(others);
    groups.retain(|group| !group.operations.is_empty());
    groups
}

/// Every operation of `document`, path by path, in the order of [`METHODS`].
fn operations(document: &Value) -> Vec<Operation<'_>> {
    let Some(paths) = document["paths"].as_object() else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if item[method].is_object() {
                operations.push(Operation {
                    method,
                    path,
                    operation: &item[method],
                });
            }
        }
    }
    operations
}

/// Whether a link's target is a web page: `http:`, `https:` or `mailto:`, or a path or anchor of
/// this server's (no scheme at all).
fn is_web_link(target: &str) -> bool {
    let Some(colon) = target.find(':') else {
        return true;
    };
    let scheme = &target[..colon];
    // A colon after a path's first `/`, `?` or `#` is no scheme's.
    scheme.contains(['/', '?', '#'])
        || ["http", "https", "mailto"]
            .iter()
            .any(|web| scheme.eq_ignore_ascii_case(web))
}

/// HTML being written. Markup comes only from literals (`&'static str`) and from the Markdown of
/// descriptions; every other text of the document goes through [`Html::text`], escaped, and raw
/// HTML within Markdown is escaped too: the document is data, never markup.
struct Html(String);

impl Html {
    fn markup(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    fn text(&mut self, text: &str) -> &mut Self {
        pulldown_cmark_escape::escape_html(&mut self.0, text)
            .expect("writing to a String cannot fail");
        self
    }

    /// A description, its Markdown as HTML: paragraphs, code spans, emphasis, lists, links.
    fn prose(&mut self, text: &str) -> &mut Self {
        self.markdown(text, Flow::Blocks)
    }

    /// A description within a line (a table cell, the end of a sentence): its Markdown without
    /// paragraphs, which are joined by a space.
    fn inline(&mut self, text: &str) -> &mut Self {
        self.markdown(text, Flow::Inline)
    }

    /// Markdown as HTML, except what would make the document markup: raw HTML in it is text,
    /// escaped as every other text is, an image is its alt text (the page loads nothing), and a
    /// link to anything but a web page (`javascript:`, `data:`) is its text.
    fn markdown(&mut self, text: &str, flow: Flow) -> &mut Self {
        let mut paragraphs = 0;
        let mut in_dropped_link = false;
        let events = Parser::new(text).filter_map(|event| match event {
            Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
            Event::Start(Tag::Link { ref dest_url, .. }) if !is_web_link(dest_url) => {
                in_dropped_link = true;
                None
            }
            Event::End(TagEnd::Link) if in_dropped_link => {
                in_dropped_link = false;
                None
            }
            // A line break within a paragraph is a space, as a browser shows it.
            Event::SoftBreak => Some(Event::Text(" ".into())),
            Event::Start(Tag::Paragraph) if flow == Flow::Inline => {
                paragraphs += 1;
                (paragraphs > 1).then(|| Event::Text(" ".into()))
            }
            Event::End(TagEnd::Paragraph) if flow == Flow::Inline => None,
            event => Some(event),
        });
        pulldown_cmark::html::push_html(&mut self.0, events);
        self
    }

    fn operation(&mut self, operation: &Operation) {
        let anchor = operation.anchor();
        let Operation {
            method,
            path,
            operation,
        } = operation;
        self.markup("<article id=\"")
            .text(&anchor)
            .markup("\">\n<h3><span class=\"method\">")
            .text(&method.to_uppercase())
            .markup("</span> <code>")
            .text(path)
            .markup("</code></h3>\n");
        if let Some(summary) = operation["summary"].as_str() {
            self.markup("<p class=\"summary\">")
                .text(summary)
                .markup("</p>\n");
        }
        if let Some(description) = operation["description"].as_str() {
            self.prose(description);
        }
        self.security(&operation["security"]);
        self.parameters(&operation["parameters"]);
        self.request_body(&operation["requestBody"]);
        self.responses(&operation["responses"]);
        self.markup("</article>\n");
    }

    /// The credentials an operation needs: the names of its security schemes.
    fn security(&mut self, security: &Value) {
        let schemes: Vec<&str> = security
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|requirement| requirement.keys().map(String::as_str))
            .collect();
        if schemes.is_empty() {
            return;
        }
        self.markup("<p>Credentials: ");
        for (index, scheme) in schemes.iter().enumerate() {
            if index > 0 {
                self.markup(" or ");
            }
            self.markup("<code>").text(scheme).markup("</code>");
        }
        self.markup(" (<code>Authorization: Bearer &lt;token&gt;</code>)</p>\n");
    }

    fn parameters(&mut self, parameters: &Value) {
        let Some(parameters) = parameters.as_array().filter(|list| !list.is_empty()) else {
            return;
        };
        self.markup("<h4>Parameters</h4>\n<table>\n")
            .markup("<tr><th>Name</th><th>In</th><th>Type</th><th>Required</th>")
            .markup("<th>Description</th></tr>\n");
        for parameter in parameters {
            self.markup("<tr><td><code>")
                .text(parameter["name"].as_str().unwrap_or_default())
                .markup("</code></td><td>")
                .text(parameter["in"].as_str().unwrap_or_default())
                .markup("</td><td>")
                .schema(&parameter["schema"])
                .markup("</td><td>")
                .markup(yes_or_no(&parameter["required"]))
                .markup("</td><td>")
                .inline(parameter["description"].as_str().unwrap_or_default())
                .markup("</td></tr>\n");
        }
        self.markup("</table>\n");
    }

    fn request_body(&mut self, body: &Value) {
        if !body.is_object() {
            return;
        }
        self.markup("<h4>Request body</h4>\n<p>");
        self.content(&body["content"]);
        if let Some(description) = body["description"].as_str() {
            self.markup(": ").inline(description);
        }
        self.markup("</p>\n");
    }

    fn responses(&mut self, responses: &Value) {
        let Some(responses) = responses.as_object() else {
            return;
        };
        self.markup("<h4>Responses</h4>\n<table>\n")
            .markup("<tr><th>Status</th><th>Description</th><th>Body</th><th>Headers</th></tr>\n");
        for (status, response) in responses {
            self.markup("<tr><td>")
                .text(status)
                .markup("</td><td>")
                .inline(response["description"].as_str().unwrap_or_default())
                .markup("</td><td>");
            self.content(&response["content"]);
            self.markup("</td><td>");
            let headers = response["headers"].as_object().into_iter().flatten();
            for (index, (name, header)) in headers.enumerate() {
                if index > 0 {
                    self.markup("<br>");
                }
                self.markup("<code>").text(name).markup("</code>");
                if let Some(description) = header["description"].as_str() {
                    self.markup(": ").inline(description);
                }
            }
            self.markup("</td></tr>\n");
        }
        self.markup("</table>\n");
    }

    /// A body's media types, each with its schema.
    fn content(&mut self, content: &Value) -> &mut Self {
        let media = content.as_object().into_iter().flatten();
        for (index, (media_type, media)) in media.enumerate() {
            if index > 0 {
                self.markup("<br>");
            }
            self.markup("<code>").text(media_type).markup("</code>");
            if media["schema"].is_object() {
                self.markup(" ").schema(&media["schema"]);
            }
        }
        self
    }

    /// A schema in a few words: a reference links to its definition, `array of …`, `string or
    /// null`.
    fn schema(&mut self, schema: &Value) -> &mut Self {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            if reference.starts_with("#/components/schemas/") {
                return self
                    .markup("<a href=\"#schema-")
                    .text(name)
                    .markup("\">")
                    .text(name)
                    .markup("</a>");
            }
            return self.text(name);
        }
        for (key, joint) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
            if let Some(schemas) = schema[key].as_array() {
                for (index, each) in schemas.iter().enumerate() {
                    if index > 0 {
                        self.markup(joint);
                    }
                    self.schema(each);
                }
                return self;
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(kind) => vec![kind],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.is_empty() {
            return self.markup("any");
        }
        for (index, kind) in types.iter().enumerate() {
            if index > 0 {
                self.markup(" or ");
            }
            if *kind == "array" && schema["items"].is_object() {
                self.markup("array of ").schema(&schema["items"]);
            } else {
                self.text(kind);
            }
        }
        if let Some(format) = schema["format"].as_str() {
            self.markup(" (").text(format).markup(")");
        }
        self
    }

    /// A schema of `components`: its description, and its properties when it has any.
    fn schema_definition(&mut self, name: &str, schema: &Value) {
        self.markup("<article id=\"schema-")
            .text(name)
            .markup("\">\n<h3><code>")
            .text(name)
            .markup("</code></h3>\n");
        if let Some(description) = schema["description"].as_str() {
            self.prose(description);
        }
        match schema["properties"].as_object() {
            Some(properties) => {
                let required = |property: &str| {
                    schema["required"]
                        .as_array()
                        .is_some_and(|names| names.iter().any(|name| name == property))
                };
                self.markup("<table>\n<tr><th>Property</th><th>Type</th><th>Required</th>")
                    .markup("<th>Description</th></tr>\n");
                for (property, property_schema) in properties {
                    self.markup("<tr><td><code>")
                        .text(property)
                        .markup("</code></td><td>")
                        .schema(property_schema)
                        .markup("</td><td>")
                        .markup(if required(property) { "yes" } else { "no" })
                        .markup("</td><td>")
                        .inline(property_schema["description"].as_str().unwrap_or_default())
                        .markup("</td></tr>\n");
                }
                self.markup("</table>\n");
            }
            None => {
                self.markup("<p>").schema(schema).markup("</p>\n");
            }
        }
        self.markup("</article>\n");
    }
}

/// Where a description is shown: as blocks of its own, or within a line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Blocks,
    Inline,
}

fn yes_or_no(value: &Value) -> &'static str {
    if value.as_bool() == Some(true) {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_of_the_document_is_escaped() {
        let document = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "<script>alert(1)</script>", "version": "1\"",
                "description": "a & b <b>bold</b>\n\n<script>alert(2)</script>\n\n![pixel](/p.png)"},
            "tags": [{"name": "<b>tag</b>", "description": "`<i>`"}],
            "paths": {"/<x>": {"get": {
                "tags": ["<b>tag</b>"],
                "operationId": "\"><img>",
                "summary": "<em>summary</em>",
                "description": "one `<code>` and\na `dangling < one",
                "parameters": [{"name": "<param>", "in": "query", "description": "<d>",
                    "schema": {"type": "<t>"}}],
                "responses": {"200": {"description": "<ok>", "headers": {"<h>": {}},
                    "content": {"<media>": {"schema": {"$ref": "#/components/schemas/<S>"}}}}}
            }}},
            "components": {"schemas": {"<S>": {"description": "<s>",
                "properties": {"<prop>": {"type": "string", "description": "<pd>"}}}}}
        });
        let page = page(&document);
        let body = page.split_once("</style>").unwrap().1;
        let texts = [
            "<script", "<b>", "<i>", "<img", "<em>", "<x>", "<param>", "<t>", "<d>", "<ok>", "<h>",
            "<media>", "<S>", "<s>", "<prop>", "<pd>", "<code><",
        ];
        for text in texts {
            assert!(!body.contains(text), "{text} is not escaped:\n{body}");
        }
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{body}"
        );
        assert!(
            body.contains("one <code>&lt;code&gt;</code> and a `dangling &lt; one"),
            "{body}"
        );
        assert!(
            body.contains("id=\"operation-&quot;&gt;&lt;img&gt;\""),
            "{body}"
        );
        // Raw HTML in a description's Markdown, a block or inline, is text; an image its alt.
        assert!(body.contains("a &amp; b &lt;b&gt;bold&lt;/b&gt;"), "{body}");
        assert!(
            body.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
            "{body}"
        );
        assert!(body.contains("<p>pixel</p>"), "{body}");
    }

    #[test]
    fn descriptions_are_markdown_and_within_a_line_have_no_paragraphs() {
        let mut html = Html(String::new());
        html.prose("**Note**: `If-Match`\nis *optional*.\n\n- one\n- two");
        assert_eq!(
            html.0,
            "<p><strong>Note</strong>: <code>If-Match</code> is <em>optional</em>.</p>\n\
             <ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
        let mut html = Html(String::new());
        html.inline("The flags' version,\nquoted.\n\nSee `ETag`.");
        assert_eq!(html.0, "The flags' version, quoted. See <code>ETag</code>.");
    }

    #[test]
    fn a_link_to_anything_but_a_web_page_is_its_text() {
        let mut html = Html(String::new());
        html.inline(
            "[docs](https://example.com/a:b), [here](/docs#x), [mail](mailto:ops@example.com), \
             [run](javascript:alert(1)), [run](JavaScript:alert(1)), [data](data:text/html,x)",
        );
        assert_eq!(
            html.0,
            "<a href=\"https://example.com/a:b\">docs</a>, <a href=\"/docs#x\">here</a>, \
             <a href=\"mailto:ops@example.com\">mail</a>, run, run, data"
        );
    }

    #[test]
    fn operations_are_listed_and_shown_by_tag_in_the_documents_order_of_tags() {
        let operation = |tag: Option<&str>, id: &str| match tag {
            Some(tag) => serde_json::json!({"tags": [tag], "operationId": id, "responses": {}}),
            None => serde_json::json!({"operationId": id, "responses": {}}),
        };
        let document = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "tags": [{"name": "second"}, {"name": "first"}, {"name": "unused"}],
            "paths": {
                "/a": {"get": operation(Some("first"), "a"), "post": operation(None, "untagged")},
                "/b": {"get": operation(Some("second"), "b"), "put": operation(Some("x"), "x")},
            },
        });
        let page = page(&document);
        let order = |marker: &str| {
            let mut found: Vec<(usize, &str)> = [
                "operation-b",
                "operation-a",
                "operation-x",
                "operation-untagged",
            ]
            .into_iter()
            .filter_map(|id| Some((page.find(&format!("{marker}{id}"))?, id)))
            .collect();
            found.sort();
            found.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        };
        let expected = [
            "operation-b",
            "operation-a",
            "operation-untagged",
            "operation-x",
        ];
        assert_eq!(order("href=\"#"), expected);
        assert_eq!(order("id=\""), expected);
        let sections: Vec<&str> = page
            .split("<section>\n<h2>")
            .skip(1)
            .map(|section| section.split_once("</h2>").unwrap().0)
            .collect();
        assert_eq!(sections, ["second", "first", "Other operations"]);
    }

    #[test]
    fn a_schema_is_named_in_a_few_words() {
        let words = |schema: Value| {
            let mut html = Html(String::new());
            html.schema(&schema);
            html.0
        };
        assert_eq!(
            words(serde_json::json!({"type": ["string", "null"]})),
            "string or null"
        );
        assert_eq!(
            words(
                serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/A"}})
            ),
            "array of <a href=\"#schema-A\">A</a>"
        );
        assert_eq!(
            words(serde_json::json!({"type": "integer", "format": "int64"})),
            "integer (int64)"
        );
        assert_eq!(
            words(serde_json::json!({"oneOf": [{"type": "null"}, {"type": "boolean"}]})),
            "null or boolean"
        );
        assert_eq!(words(serde_json::json!({})), "any");
    }
}
