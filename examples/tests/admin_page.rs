//! The admin page (`/admin`) in a real browser: headless Chromium driven through chromedriver
//! (WebDriver), against `rose serve` on a free loopback port, as a person would use it.
//!
//! Needs Debian's `chromium` and `chromium-driver`: without them the tests fail under CI, and
//! elsewhere print a notice and pass.
//! `FLAGS_SCREENSHOTS=1 cargo test -p flags-examples --test admin_page screenshots` rewrites the
//! README's screenshots in `docs/`.

use std::path::Path;
use std::time::{Duration, Instant};

mod browser;
mod rose;

use browser::Driver;
use rose::Server;

use fantoccini::{Client, Locator};
use flags_core::FeatureFlags;
use flags_examples::Settings;
use reqwest::Method;
use serde_json::{Value, json};

/// The longest any wait lasts before the test fails: an element, a request, a start.
const WAIT: Duration = Duration::from_secs(10);

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);

/// The admin API's token in these tests.
const TOKEN: &str = "admin-token-9b3e5d21";

/// The screenshots' window: a laptop's.
const DESKTOP: (u32, u32) = (1280, 960);

/// The admin page in headless Chromium, the server behind it, and an HTTP client for what the
/// test checks through the API.
struct Page {
    browser: Client,
    server: Server,
    /// The server's directory, removed once the server is gone.
    _dir: tempfile::TempDir,
    http: reqwest::Client,
    // Last: dropped after the browser's session is gone.
    _driver: Driver,
}

impl Page {
    /// `rose serve` with `vars` (and the token), and the browser at its admin page; `None` when
    /// Chromium is not installed and this is not CI.
    async fn open(vars: &[(&str, &str)]) -> Option<Page> {
        let mut vars = vars.to_vec();
        vars.push(("ADMIN_TOKEN", TOKEN));
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path(), &vars, &[]);
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(WAIT)
            .build()
            .unwrap();
        let (browser, driver) = browser::open(&http, DESKTOP, WAIT).await?;
        let page = Page {
            browser,
            server,
            _dir: dir,
            http,
            _driver: driver,
        };
        page.browser.goto(&page.server.url("/admin")).await.unwrap();
        page.until(
            "the sign-in form",
            "return document.activeElement.id === 'token'",
        )
        .await;
        Some(page)
    }

    /// Ends the browser's session (Chromium quits); the driver and server go when dropped.
    async fn close(self) {
        let Page { browser, .. } = self;
        let _ = tokio::time::timeout(WAIT, browser.close()).await;
    }

    /// Runs `script` (a function body, arguments in `arguments`) until it returns something
    /// other than `null`, `false` or `""`, and returns that; fails after [`WAIT`].
    async fn until(&self, what: &str, script: &str) -> Value {
        self.until_with(what, script, Vec::new()).await
    }

    async fn until_with(&self, what: &str, script: &str, arguments: Vec<Value>) -> Value {
        let deadline = Instant::now() + WAIT;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            last = self.run(script, arguments.clone()).await;
            if !matches!(&last, Value::Null | Value::Bool(false)) && last != "" {
                return last;
            }
            tokio::time::sleep(POLL).await;
        }
        let messages = self.text("#messages").await;
        panic!("waited {WAIT:?} for {what}: last {last}; the page says: {messages:?}");
    }

    async fn run(&self, script: &str, arguments: Vec<Value>) -> Value {
        tokio::time::timeout(WAIT, self.browser.execute(script, arguments))
            .await
            .unwrap_or_else(|_| panic!("the browser did not run a script in {WAIT:?}"))
            .unwrap()
    }

    /// The text of the first element `css` selects, as a person sees it; "" if none.
    async fn text(&self, css: &str) -> String {
        let script = "const element = document.querySelector(arguments[0]); \
                      return element === null ? '' : element.innerText;";
        match self.run(script, vec![json!(css)]).await {
            Value::String(text) => text,
            other => panic!("{css}: {other}"),
        }
    }

    /// Waits until `css` selects a visible element, and returns it.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let script = "const element = document.querySelector(arguments[0]); \
                      return element !== null && element.checkVisibility();";
        self.until_with(&format!("{css} to show"), script, vec![json!(css)])
            .await;
        self.browser.find(Locator::Css(css)).await.unwrap()
    }

    async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.element(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Waits until the live region's text holds `expected`, and returns it.
    async fn message(&self, expected: &str) -> String {
        let script = "const text = document.getElementById('messages').innerText; \
                      return text.includes(arguments[0]) ? text : null;";
        let found = self
            .until_with(
                &format!("the message {expected:?}"),
                script,
                vec![json!(expected)],
            )
            .await;
        found.as_str().unwrap().to_owned()
    }

    async fn sign_in(&self, token: &str) {
        self.type_into("#token", token).await;
        self.click("#sign-in-form button[type=submit]").await;
    }

    /// Signs in with the right token and waits for the flags.
    async fn signed_in(&self) {
        self.sign_in(TOKEN).await;
        self.message("Signed in").await;
        self.element(&card("FEATURE_TTS_CACHE_ENABLED")).await;
    }

    /// The text of a flag's card.
    async fn card_text(&self, variable: &str) -> String {
        self.text(&card(variable)).await
    }

    /// Waits until a flag's card holds `expected`, and returns its text.
    async fn card_until(&self, variable: &str, expected: &str) -> String {
        let script = "const card = document.querySelector(arguments[0]); \
                      return card !== null && card.innerText.includes(arguments[1]) \
                          ? card.innerText : null;";
        let text = self
            .until_with(
                &format!("{variable}'s card to say {expected:?}"),
                script,
                vec![json!(card(variable)), json!(expected)],
            )
            .await;
        text.as_str().unwrap().to_owned()
    }

    /// Answers the confirmation dialog, after checking what it asks.
    async fn confirm(&self, asks: &str) {
        self.confirm_with_reason(asks, "").await;
    }

    /// Answers the confirmation dialog, after checking what it asks, giving `reason`.
    async fn confirm_with_reason(&self, asks: &str, reason: &str) {
        let dialog = self.element("#confirm").await;
        let text = dialog.text().await.unwrap();
        assert!(text.contains(asks), "the dialog asks {text:?}");
        // The safe choice has the focus.
        let focused = self
            .run("return document.activeElement.id", Vec::new())
            .await;
        assert_eq!(focused, "confirm-cancel");
        if !reason.is_empty() {
            self.type_into("#confirm-comment", reason).await;
        }
        self.click("#confirm-ok").await;
        self.until(
            "the dialog to close",
            "return !document.getElementById('confirm').open",
        )
        .await;
    }

    async fn show_audit(&self) {
        self.click("#show-audit").await;
        self.element("#audit-view").await;
    }

    /// A request of the admin API, made by the test with the token: another admin.
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.server.url(path))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Every flag and the version, from the admin API.
    async fn flags(&self) -> Value {
        let (status, flags) = self
            .admin(Method::GET, "/api/admin/feature-flags", None)
            .await;
        assert_eq!(status, 200, "{flags}");
        flags
    }

    /// Asks for a rollout of 150% of FEATURE_NEW_UI, which the server refuses.
    async fn refuse_a_rollout_of_150(&self) {
        let new_ui = card("FEATURE_NEW_UI");
        self.type_into(&format!("{new_ui} input.edit-value"), "150%")
            .await;
        self.click(&format!("{new_ui} button[type=submit]")).await;
        self.confirm("Change FEATURE_NEW_UI?").await;
        self.message("Refused").await;
    }

    /// The audit, from the admin API.
    async fn audit(&self) -> Value {
        let (status, audit) = self.admin(Method::GET, "/api/admin/audit", None).await;
        assert_eq!(status, 200, "{audit}");
        audit
    }

    /// A flag's value, as JSON of its type, from the admin API.
    async fn value(&self, variable: &str) -> Value {
        let flags = self.flags().await;
        let flag = flags["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|flag| flag["variable"] == variable)
            .unwrap_or_else(|| panic!("no {variable} in {flags}"));
        flag["value"].clone()
    }

    /// The public flags, as a frontend gets them.
    async fn public(&self) -> Value {
        let response = self
            .http
            .get(self.server.url("/api/feature-flags"))
            .send()
            .await
            .unwrap();
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    }
}

/// The card of a flag.
fn card(variable: &str) -> String {
    format!("article.flag[data-variable=\"{variable}\"]")
}

#[tokio::test]
async fn a_flag_turned_off_through_the_confirmation_is_off_for_every_client() {
    let Some(page) = Page::open(&[("TOGETHER_API_KEY", "together-key")]).await else {
        return;
    };
    page.signed_in().await;
    assert_eq!(page.text("#version").await, "Serving version 0");
    let tts = card("FEATURE_TTS_CACHE_ENABLED");
    let text = page.card_text("FEATURE_TTS_CACHE_ENABLED").await;
    assert!(text.contains("Enable caching of TTS responses."), "{text}");
    assert!(text.contains("Value\ntrue"), "{text}");
    assert!(text.contains("From\ndefault"), "{text}");

    page.click(&format!("{tts} button.toggle")).await;
    page.confirm("Turn FEATURE_TTS_CACHE_ENABLED off?").await;
    page.message("FEATURE_TTS_CACHE_ENABLED is off (version 1)")
        .await;
    let text = page
        .card_until("FEATURE_TTS_CACHE_ENABLED", "Value\nfalse")
        .await;
    assert!(text.contains("override by admin, version 1, 20"), "{text}");
    assert_eq!(page.text("#version").await, "Serving version 1");
    // The focus is back on the button that asked, which now turns the flag on.
    let focused = page
        .run("return document.activeElement.textContent", Vec::new())
        .await;
    assert_eq!(focused, "Turn on FEATURE_TTS_CACHE_ENABLED");

    assert_eq!(page.value("FEATURE_TTS_CACHE_ENABLED").await, false);
    assert_eq!(page.flags().await["version"], 1);
    // A public flag, the same way: the route frontends read has it at once.
    assert_eq!(page.public().await["image_generation"], false);
    page.click(&format!(
        "{} button.toggle",
        card("FEATURE_IMAGE_GENERATION_ENABLED")
    ))
    .await;
    page.confirm("FEATURE_IMAGE_GENERATION_ENABLED becomes true")
        .await;
    page.message("FEATURE_IMAGE_GENERATION_ENABLED is on (version 2)")
        .await;
    assert_eq!(page.public().await["image_generation"], true);
    page.close().await;
}

#[tokio::test]
async fn a_refused_change_shows_the_servers_problems_next_to_the_flag_and_changes_nothing() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.signed_in().await;
    // WhatsApp needs tokens that are set only at start: turning it on could only be refused,
    // so it is not offered, and the card says why.
    let whatsapp = card("FEATURE_WHATSAPP_ENABLED");
    let text = page.card_text("FEATURE_WHATSAPP_ENABLED").await;
    assert!(
        text.contains(
            "Cannot be turned on here: it requires WHATSAPP_TOKEN, WHATSAPP_VERIFY_TOKEN, which \
             are unset and can only be set at start."
        ),
        "{text}"
    );
    assert_eq!(page.text(&format!("{whatsapp} button.toggle")).await, "");

    // A rollout of 150%: the server refuses it (422), its problem next to the flag.
    let new_ui = card("FEATURE_NEW_UI");
    page.type_into(&format!("{new_ui} input.edit-value"), "150%")
        .await;
    page.click(&format!("{new_ui} button[type=submit]")).await;
    page.confirm("Change FEATURE_NEW_UI?").await;
    let message = page.message("Refused, nothing changed").await;
    assert!(message.contains("FEATURE_NEW_UI"), "{message}");
    let problems = page.text(&format!("{new_ui} .problems")).await;
    assert!(
        problems.contains("FEATURE_NEW_UI") && problems.contains("150%"),
        "{problems}"
    );
    assert_eq!(page.flags().await["version"], 0);

    // A value typed into a text field goes to the server as typed; a valid one is applied.
    let phone = card("WHATSAPP_PHONE_NUMBER_ID");
    page.type_into(&format!("{phone} input.edit-value"), "15551234567")
        .await;
    page.click(&format!("{phone} button[type=submit]")).await;
    page.confirm("Change WHATSAPP_PHONE_NUMBER_ID?").await;
    page.message("WHATSAPP_PHONE_NUMBER_ID is 15551234567 (version 1)")
        .await;
    assert_eq!(page.value("WHATSAPP_PHONE_NUMBER_ID").await, "15551234567");
    // The earlier problems went with the change that followed them.
    assert_eq!(page.text(&format!("{new_ui} .problems")).await, "");

    // An enum is a choice of its values.
    let level = card("LOG_LEVEL");
    let select = page.element(&format!("{level} select.edit-value")).await;
    select.select_by_value("debug").await.unwrap();
    page.click(&format!("{level} button[type=submit]")).await;
    page.confirm("Change LOG_LEVEL?").await;
    page.message("LOG_LEVEL is debug (version 2)").await;
    assert_eq!(page.value("LOG_LEVEL").await, "debug");

    // Flags that cannot change live are read-only, with the reason.
    let text = page.card_text("FEATURE_DATABASE_TYPE").await;
    assert!(
        text.contains("Read-only: it takes effect on restart"),
        "{text}"
    );
    let text = page.card_text("DATABASE_URL").await;
    assert!(text.contains("Read-only: a secret"), "{text}");
    page.close().await;
}

#[tokio::test]
async fn the_audit_shows_who_changed_what_from_which_value_applied_or_refused() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.signed_in().await;
    page.click(&format!(
        "{} button.toggle",
        card("FEATURE_TTS_CACHE_ENABLED")
    ))
    .await;
    page.confirm("Turn FEATURE_TTS_CACHE_ENABLED off?").await;
    page.message("is off (version 1)").await;
    page.refuse_a_rollout_of_150().await;

    page.show_audit().await;
    let rows = page
        .until(
            "two rows in the audit",
            "const rows = [...document.querySelectorAll('#audit-rows tr')]; \
             return rows.length === 2 ? rows.map((row) => row.innerText) : null;",
        )
        .await;
    // Newest first.
    let refused = rows[0].as_str().unwrap();
    assert!(refused.contains("admin"), "{refused}");
    assert!(refused.contains("FEATURE_NEW_UI: off → 150%"), "{refused}");
    assert!(refused.contains("refused"), "{refused}");
    assert!(refused.contains("invalid value \"150%\""), "{refused}");
    let applied = rows[1].as_str().unwrap();
    assert!(applied.starts_with("1\t20"), "{applied}");
    assert!(applied.contains("admin"), "{applied}");
    assert!(
        applied.contains("FEATURE_TTS_CACHE_ENABLED: true → false"),
        "{applied}"
    );
    assert!(applied.contains("applied"), "{applied}");
    page.close().await;
}

#[tokio::test]
async fn a_rollback_from_the_page_brings_the_previous_value_back() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.signed_in().await;
    page.show_audit().await;
    // Nothing to go back to yet: said clearly, nothing changed.
    page.click("#rollback").await;
    page.confirm("Roll back to the previous version?").await;
    page.message("Nothing changed: nothing to roll back").await;
    assert_eq!(page.flags().await["version"], 0);

    page.click("#show-flags").await;
    page.click(&format!(
        "{} button.toggle",
        card("FEATURE_TTS_CACHE_ENABLED")
    ))
    .await;
    page.confirm_with_reason(
        "Turn FEATURE_TTS_CACHE_ENABLED off?",
        "cache stampede, INC-7",
    )
    .await;
    page.message("is off (version 1)").await;
    assert_eq!(page.value("FEATURE_TTS_CACHE_ENABLED").await, false);

    page.show_audit().await;
    page.click("#rollback").await;
    page.confirm_with_reason("before version 1", "INC-7 fixed")
        .await;
    page.message("Rolled back: the flags are at version 2")
        .await;
    // The audit shows each change's kind and reason, newest first.
    page.until(
        "the rollback in the audit",
        "return document.querySelector('#audit-rows tr')?.innerText.includes('INC-7 fixed')",
    )
    .await;
    let rows = page
        .run(
            "return [...document.querySelectorAll('#audit-rows tr')].map((row) => row.innerText)",
            Vec::new(),
        )
        .await;
    let rows: Vec<String> = serde_json::from_value(rows).unwrap();
    assert!(
        rows[0].contains("ROLLBACK") && rows[0].contains("“INC-7 fixed”"),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("SET") && rows[1].contains("“cache stampede, INC-7”"),
        "{rows:?}"
    );
    let audit = page.audit().await;
    let newest = audit["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&newest["kind"], &newest["comment"]),
        (&json!("rollback"), &json!("INC-7 fixed"))
    );

    page.click("#show-flags").await;
    page.card_until("FEATURE_TTS_CACHE_ENABLED", "Value\ntrue")
        .await;
    assert_eq!(page.value("FEATURE_TTS_CACHE_ENABLED").await, true);
    assert_eq!(page.flags().await["version"], 2);

    // Saving the value a flag's override holds already changes nothing, and says so.
    let level = card("LOG_LEVEL");
    let save_debug = async || {
        let select = page.element(&format!("{level} select.edit-value")).await;
        select.select_by_value("debug").await.unwrap();
        page.click(&format!("{level} button[type=submit]")).await;
        page.confirm("Change LOG_LEVEL?").await;
    };
    save_debug().await;
    page.message("LOG_LEVEL is debug (version 3)").await;
    save_debug().await;
    page.message("Nothing to change: the flags already hold that (version 3)")
        .await;
    assert_eq!(page.flags().await["version"], 3);
    page.close().await;
}

#[tokio::test]
async fn a_reset_from_the_page_takes_the_override_away() {
    let Some(page) = Page::open(&[("LOG_LEVEL", "warn")]).await else {
        return;
    };
    page.signed_in().await;
    let level = card("LOG_LEVEL");
    assert!(
        page.card_text("LOG_LEVEL")
            .await
            .contains("From\nenvironment")
    );
    // No override, no reset.
    assert_eq!(
        page.text(&format!("{level} .controls button[type=button]"))
            .await,
        ""
    );
    let select = page.element(&format!("{level} select.edit-value")).await;
    select.select_by_value("error").await.unwrap();
    page.click(&format!("{level} button[type=submit]")).await;
    page.confirm("Change LOG_LEVEL?").await;
    page.message("LOG_LEVEL is error (version 1)").await;
    page.card_until("LOG_LEVEL", "override by admin, version 1")
        .await;

    page.click(&format!("{level} .controls button[type=button]"))
        .await;
    page.confirm("Reset LOG_LEVEL?").await;
    page.message("LOG_LEVEL is reset (version 2)").await;
    let text = page.card_until("LOG_LEVEL", "From\nenvironment").await;
    assert!(text.contains("Value\nwarn"), "{text}");
    assert_eq!(page.value("LOG_LEVEL").await, "warn");
    page.close().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_shows_no_flag_and_too_many_say_how_long_to_wait() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.sign_in("not-the-admin-token").await;
    let message = page.message("Not signed in").await;
    assert_eq!(
        message,
        "Not signed in: the token is not valid for the admin API."
    );
    let shown = page
        .run(
            "return { admin: !document.getElementById('admin-view').hidden, \
                      cards: document.querySelectorAll('.flag').length, \
                      stored: sessionStorage.length, \
                      signIn: document.getElementById('sign-in-view').checkVisibility() };",
            Vec::new(),
        )
        .await;
    assert_eq!(
        shown,
        json!({"admin": false, "cards": 0, "stored": 0, "signIn": true})
    );
    // Nor is the token anywhere in the page's address.
    let url = page.browser.current_url().await.unwrap();
    assert_eq!(url.as_str(), page.server.url("/admin"));

    // Each attempt counts once against the server's limit (10 a minute); past it, the page says
    // how long to wait.
    for attempt in 2..=10 {
        page.run(
            "document.getElementById('messages').textContent = ''",
            Vec::new(),
        )
        .await;
        page.sign_in(&format!("wrong-token-{attempt}")).await;
        page.message("Not signed in: the token is not valid").await;
    }
    page.run(
        "document.getElementById('messages').textContent = ''",
        Vec::new(),
    )
    .await;
    page.sign_in(TOKEN).await;
    let message = page
        .message("Not signed in: too many failed attempts")
        .await;
    let seconds: u64 = message
        .strip_prefix("Not signed in: too many failed attempts from this address; try again in ")
        .and_then(|rest| rest.strip_suffix(" s."))
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    assert!((1..=60).contains(&seconds), "{message}");
    page.close().await;
}

#[tokio::test]
async fn signing_out_forgets_the_token_and_the_flags() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.signed_in().await;
    let stored = page
        .run(
            "return sessionStorage.getItem('flags-admin-token')",
            Vec::new(),
        )
        .await;
    assert_eq!(stored, TOKEN);
    // A reload of the tab keeps the session.
    page.browser.refresh().await.unwrap();
    page.message("Signed in").await;
    page.element(&card("LOG_LEVEL")).await;

    page.click("#sign-out").await;
    page.message("Signed out.").await;
    let left = page
        .run(
            "return { cards: document.querySelectorAll('.flag').length, \
                      rows: document.querySelectorAll('#audit-rows tr').length, \
                      stored: sessionStorage.length, cookies: document.cookie };",
            Vec::new(),
        )
        .await;
    assert_eq!(
        left,
        json!({"cards": 0, "rows": 0, "stored": 0, "cookies": ""})
    );
    page.close().await;
}

/// A canary in every secret variable of the seed's settings: not in the page's source, its text,
/// its storage, nor in any request the page made (their addresses, and their answers fetched
/// again by the test).
#[tokio::test]
async fn no_secret_reaches_the_page() {
    const CANARY: &str = "canary-3a7c";
    let secrets: Vec<(&str, String)> = Settings::FLAGS
        .iter()
        // LAUNCHDARKLY_SDK_KEY set would hand every live flag to LaunchDarkly, and the page could
        // change none (examples/tests/launchdarkly.rs shows that key is never printed).
        .filter(|flag| flag.is_secret() && flag.env() != "ADMIN_TOKEN")
        .filter(|flag| flag.env() != "LAUNCHDARKLY_SDK_KEY")
        .map(|flag| (flag.env(), format!("{CANARY}-{}", flag.env())))
        .collect();
    assert!(secrets.len() >= 8, "{secrets:?}");
    let mut vars: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    // Every flag that needs a secret, on, so that each secret is in use (the database type
    // stays SQLite: no database is started).
    vars.extend([
        ("FEATURE_WHATSAPP_ENABLED", "true"),
        ("WHATSAPP_PHONE_NUMBER_ID", "1234567890"),
        ("FEATURE_IMAGE_GENERATION_ENABLED", "true"),
        ("FEATURE_READ_REPLICA_ENABLED", "true"),
        ("FEATURE_MULTI_REGION_ENABLED", "true"),
    ]);
    let Some(page) = Page::open(&vars).await else {
        return;
    };
    page.signed_in().await;
    // Changes that touch the flags beside the secrets, one refused.
    page.click(&format!(
        "{} button.toggle",
        card("FEATURE_WHATSAPP_ENABLED")
    ))
    .await;
    page.confirm("Turn FEATURE_WHATSAPP_ENABLED off?").await;
    page.message("is off (version 1)").await;
    let text = page.card_text("WHATSAPP_TOKEN").await;
    assert!(text.contains("set (redacted)"), "{text}");
    page.show_audit().await;
    page.until(
        "the audit's row",
        "return document.querySelectorAll('#audit-rows tr').length === 1",
    )
    .await;

    let seen = page
        .run(
            "return { html: document.documentElement.outerHTML, \
                      text: document.body.innerText, \
                      session: JSON.stringify(Object.entries(sessionStorage)), \
                      local: JSON.stringify(Object.entries(localStorage)), \
                      cookies: document.cookie, \
                      requests: performance.getEntriesByType('resource').map((entry) => entry.name) };",
            Vec::new(),
        )
        .await;
    let source = page.browser.source().await.unwrap();
    for text in [&seen.to_string(), &source] {
        assert!(!text.contains(CANARY), "{text}");
    }
    let requests: Vec<&str> = seen["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|request| request.as_str().unwrap())
        .collect();
    assert!(
        requests.iter().any(|url| url.ends_with("/api/admin/audit")),
        "{requests:?}"
    );
    for url in requests {
        assert!(!url.contains(TOKEN), "{url}");
        let path = url.strip_prefix(&page.server.url("")).unwrap();
        let (_, body) = page.admin(Method::GET, path, None).await;
        assert!(!body.to_string().contains(CANARY), "{url}: {body}");
    }
    page.close().await;
}

#[tokio::test]
async fn another_admins_change_shows_up_without_a_reload() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.signed_in().await;
    page.run("window.notReloaded = true", Vec::new()).await;
    let text = page.card_text("FEATURE_SESSION_AFFINITY_ENABLED").await;
    assert!(text.contains("Value\nfalse"), "{text}");

    let change = json!({"FEATURE_SESSION_AFFINITY_ENABLED": true});
    let (status, body) = page
        .admin(Method::PATCH, "/api/admin/feature-flags", Some(change))
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"version": 1, "changed": true}))
    );
    page.card_until("FEATURE_SESSION_AFFINITY_ENABLED", "Value\ntrue")
        .await;
    page.message("The flags changed: they are at version 1 now.")
        .await;
    assert_eq!(page.text("#version").await, "Serving version 1");
    // The audit followed.
    page.show_audit().await;
    let row = page.text("#audit-rows tr").await;
    assert!(
        row.contains("FEATURE_SESSION_AFFINITY_ENABLED: false → true"),
        "{row}"
    );
    assert_eq!(
        page.run("return window.notReloaded", Vec::new()).await,
        true
    );

    // A change from a view gone stale (its polls held up, here) is refused: 412, and a reload.
    page.run(
        "const fetch = window.fetch; \
         window.fetch = (path, init) => init.headers.has('If-None-Match') \
             ? new Promise(() => {}) : fetch(path, init);",
        Vec::new(),
    )
    .await;
    let change = json!({"FEATURE_TTS_CACHE_ENABLED": false});
    let (status, _) = page
        .admin(Method::PATCH, "/api/admin/feature-flags", Some(change))
        .await;
    assert_eq!(status, 200);
    page.click("#show-flags").await;
    let tts = card("FEATURE_TTS_CACHE_ENABLED");
    assert!(
        page.card_text("FEATURE_TTS_CACHE_ENABLED")
            .await
            .contains("Value\ntrue")
    );
    page.click(&format!("{tts} button.toggle")).await;
    page.confirm("Turn FEATURE_TTS_CACHE_ENABLED off?").await;
    page.message("Someone changed the flags; reloaded. Your change was not made")
        .await;
    page.card_until("FEATURE_TTS_CACHE_ENABLED", "override by admin, version 2")
        .await;
    assert_eq!(page.text("#version").await, "Serving version 2");
    assert_eq!(page.flags().await["version"], 2);
    page.close().await;
}

/// Keys as WebDriver names them.
const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
const ESCAPE: &str = "\u{E00C}";

async fn press(page: &Page, key: &str) {
    let focused = page.browser.active_element().await.unwrap();
    focused.send_keys(key).await.unwrap();
}

#[tokio::test]
async fn every_control_is_labelled_works_from_the_keyboard_and_fits_a_phone() {
    let Some(page) = Page::open(&[]).await else {
        return;
    };
    page.signed_in().await;
    let unlabelled = page
        .run(
            "return [...document.querySelectorAll('input, select, button')] \
                 .filter((control) => control.labels?.length === 0 || control.tagName === 'BUTTON') \
                 .filter((control) => (control.getAttribute('aria-label') ?? control.textContent).trim() === '') \
                 .map((control) => control.outerHTML);",
            Vec::new(),
        )
        .await;
    assert_eq!(unlabelled, json!([]));
    let headings = page
        .run(
            "return [...document.querySelectorAll('h1, h2')].map((heading) => heading.tagName);",
            Vec::new(),
        )
        .await;
    assert_eq!(headings[0], "H1");
    // The policy allows no inline style: the page uses its stylesheet's classes only.
    let styled = page
        .run(
            "return { inline: document.querySelectorAll('[style]').length, \
                      rules: document.styleSheets[0].cssRules.length > 0 };",
            Vec::new(),
        )
        .await;
    assert_eq!(styled, json!({"inline": 0, "rules": true}));

    // Escape says no: nothing changes.
    let tts = card("FEATURE_TTS_CACHE_ENABLED");
    page.run(
        "document.querySelector(arguments[0]).focus()",
        vec![json!(format!("{tts} button.toggle"))],
    )
    .await;
    press(&page, ENTER).await;
    page.element("#confirm").await;
    press(&page, ESCAPE).await;
    page.until(
        "the dialog to close",
        "return !document.getElementById('confirm').open",
    )
    .await;
    assert_eq!(page.flags().await["version"], 0);
    // Enter on the flag's button, Tab to the dialog's confirmation, Enter: changed.
    press(&page, ENTER).await;
    page.element("#confirm").await;
    press(&page, TAB).await;
    press(&page, ENTER).await;
    page.message("FEATURE_TTS_CACHE_ENABLED is off (version 1)")
        .await;
    assert_eq!(page.value("FEATURE_TTS_CACHE_ENABLED").await, false);

    // A phone: nothing wider than the screen, in either view.
    page.browser.set_window_size(375, 812).await.unwrap();
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth \
                    ? true : [document.documentElement.scrollWidth, window.innerWidth];";
    let width = page.run("return window.innerWidth", Vec::new()).await;
    assert_eq!(width, 375);
    assert_eq!(page.run(fits, Vec::new()).await, true);
    page.show_audit().await;
    assert_eq!(page.run(fits, Vec::new()).await, true);
    page.close().await;
}

/// Rewrites `docs/admin-flags.png` and `docs/admin-audit.png` with `FLAGS_SCREENSHOTS=1`; checks
/// otherwise that the README shows them.
#[tokio::test]
async fn screenshots() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let names = ["admin-flags.png", "admin-audit.png"];
    for name in names {
        assert!(
            readme.contains(&format!("(docs/{name})")),
            "README.md: {name}"
        );
    }
    if std::env::var_os("FLAGS_SCREENSHOTS").is_none() {
        for name in names {
            assert!(
                docs.join(name).is_file(),
                "docs/{name}: FLAGS_SCREENSHOTS=1 makes it"
            );
        }
        return;
    }

    let vars = [
        ("WHATSAPP_PHONE_NUMBER_ID", "15551234567"),
        ("TOGETHER_API_KEY", "together-key"),
        ("ENVIRONMENT", "staging"),
    ];
    let Some(page) = Page::open(&vars).await else {
        return;
    };
    page.signed_in().await;
    // A few changes first, so that the audit has rows and flags show overrides.
    page.click(&format!(
        "{} button.toggle",
        card("FEATURE_TTS_CACHE_ENABLED")
    ))
    .await;
    page.confirm("Turn FEATURE_TTS_CACHE_ENABLED off?").await;
    page.message("is off").await;
    page.refuse_a_rollout_of_150().await;
    let level = card("LOG_LEVEL");
    let select = page.element(&format!("{level} select.edit-value")).await;
    select.select_by_value("debug").await.unwrap();
    page.click(&format!("{level} button[type=submit]")).await;
    page.confirm("Change LOG_LEVEL?").await;
    page.message("LOG_LEVEL is debug").await;
    page.click(&format!(
        "{} button.toggle",
        card("FEATURE_IMAGE_GENERATION_ENABLED")
    ))
    .await;
    page.confirm("Turn FEATURE_IMAGE_GENERATION_ENABLED on?")
        .await;
    page.message("is on").await;

    // Tall enough for the first group whole.
    page.browser.set_window_size(DESKTOP.0, 1560).await.unwrap();
    page.run(
        "window.scrollTo(0, 0); document.activeElement.blur()",
        Vec::new(),
    )
    .await;
    let flags = page.browser.screenshot().await.unwrap();
    let (width, height) = DESKTOP;
    page.browser.set_window_size(width, height).await.unwrap();
    page.show_audit().await;
    page.run("document.activeElement.blur()", Vec::new()).await;
    let audit = page.browser.screenshot().await.unwrap();
    for (name, png) in names.iter().zip([flags, audit]) {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
        std::fs::write(docs.join(name), png).unwrap();
    }
    page.close().await;
}

/// What an operator sees at a glance, and finds: which deployment the page changes, each
/// switch's state, filters by kind and by description, developer detail behind a disclosure,
/// read-only secrets apart, previews of a rollback and a reset, text isolated by direction, long
/// values cut with a way to see them whole, a favicon, and an API docs page that fits a phone.
#[tokio::test]
async fn the_page_says_what_it_changes_and_shows_each_change_before_it_is_made() {
    let vars = [("ENVIRONMENT", "production")];
    let Some(page) = Page::open(&vars).await else {
        return;
    };
    page.signed_in().await;
    // The machine's name, as the server reads it.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = host.trim();
    assert_eq!(
        page.text("#deployment").await,
        format!("rose · production · {host}")
    );
    let title = page.run("return document.title", Vec::new()).await;
    assert_eq!(title, format!("Feature flags · rose · production · {host}"));

    // A switch's state is a word in its card's header, not only its button's label.
    let tts = card("FEATURE_TTS_CACHE_ENABLED");
    assert_eq!(page.text(&format!("{tts} .flag-header .state")).await, "ON");
    // The type and field are behind a disclosure until asked for.
    assert!(
        !page
            .card_text("FEATURE_TTS_CACHE_ENABLED")
            .await
            .contains("Field")
    );
    page.click(&format!("{tts} details.developer summary"))
        .await;
    let text = page.card_until("FEATURE_TTS_CACHE_ENABLED", "Field").await;
    assert!(text.contains("Type\nbool"), "{text}");
    // Secrets that cannot change here are together, apart from the rest.
    let sealed = page
        .run(
            "return [...document.querySelectorAll('.group')].map((group) => \
                 [group.querySelector('h3').innerText, \
                  [...group.querySelectorAll('.flag')].map((card) => card.dataset.variable)])",
            Vec::new(),
        )
        .await;
    let sealed = sealed.as_array().unwrap().last().unwrap().clone();
    assert_eq!(sealed[0], "Secrets (read-only: set at start)");
    assert!(
        sealed[1]
            .as_array()
            .unwrap()
            .contains(&json!("WHATSAPP_TOKEN")),
        "{sealed}"
    );

    page.click(&format!("{tts} button.toggle")).await;
    page.confirm("Turn FEATURE_TTS_CACHE_ENABLED off?").await;
    page.message("is off (version 1)").await;
    page.card_until("FEATURE_TTS_CACHE_ENABLED", "OFF").await;

    // Filters: changed from its default, and text in a description.
    let shown = "return [...document.querySelectorAll('.flag')] \
                 .filter((card) => !card.hidden && !card.closest('.group').hidden) \
                 .map((card) => card.dataset.variable)";
    page.click("#only-changed").await;
    assert_eq!(
        page.run(shown, Vec::new()).await,
        json!(["FEATURE_TTS_CACHE_ENABLED", "ENVIRONMENT", "ADMIN_TOKEN"])
    );
    page.click("#only-changed").await;
    page.type_into("#filter", "whatsapp integration").await;
    assert_eq!(
        page.run(shown, Vec::new()).await,
        json!(["FEATURE_WHATSAPP_ENABLED"])
    );
    page.type_into("#filter", "").await;
    page.click("#only-managed").await;
    assert_eq!(page.run(shown, Vec::new()).await, json!([]));
    page.click("#only-managed").await;

    // The compact list: a row a flag, its name, state, value and control; no description.
    let row = "const card = document.querySelector(arguments[0]); \
               return [card.getBoundingClientRect().height, \
                       card.querySelector('.description').offsetParent === null, \
                       card.querySelector('.state').innerText];";
    let before = page.run(row, vec![json!(tts)]).await;
    page.click("#compact").await;
    let after = page.run(row, vec![json!(tts)]).await;
    assert_eq!(
        (&after[1], &after[2]),
        (&json!(true), &json!("OFF")),
        "{after}"
    );
    assert!(
        after[0].as_f64().unwrap() < before[0].as_f64().unwrap() / 2.0,
        "{before} {after}"
    );
    page.click("#compact").await;

    // A reset and a rollback say what each flag holds now and what it will hold.
    let preview = "const dialog = document.getElementById('confirm'); \
                   return dialog.open ? document.getElementById('confirm-preview').innerText \
                       : null;";
    let closed = "return !document.getElementById('confirm').open";
    page.click(&format!(
        "{tts} button[data-key=\"FEATURE_TTS_CACHE_ENABLED reset\"]"
    ))
    .await;
    assert_eq!(
        page.until("the reset's preview", preview).await,
        "FEATURE_TTS_CACHE_ENABLED: false → what the environment gives it, or its default true"
    );
    page.click("#confirm-cancel").await;
    page.until("the dialog to close", closed).await;
    page.show_audit().await;
    page.click("#rollback").await;
    assert_eq!(
        page.until("the rollback's preview", preview).await,
        "FEATURE_TTS_CACHE_ENABLED: false → true"
    );
    page.click("#confirm-cancel").await;
    page.until("the dialog to close", closed).await;
    page.click("#show-flags").await;

    // A right-to-left value keeps its direction to itself, and a long one is cut, whole on
    // request.
    let phone = card("WHATSAPP_PHONE_NUMBER_ID");
    let long = format!("\u{5e9}\u{5dc}\u{5d5}\u{5dd}-{}", "9".repeat(200));
    page.type_into(&format!("{phone} input.edit-value"), &long)
        .await;
    page.click(&format!("{phone} button[type=submit]")).await;
    page.confirm("Change WHATSAPP_PHONE_NUMBER_ID?").await;
    page.message("(version 2)").await;
    let cut = page
        .until_with(
            "the long value, cut",
            "const value = document.querySelector(arguments[0] + ' details.long summary .value'); \
             return value === null ? null : [value.innerText, value.dir, \
                 getComputedStyle(value).unicodeBidi];",
            vec![json!(phone)],
        )
        .await;
    let expected: String = long.chars().take(80).chain(['…']).collect();
    assert_eq!(cut, json!([expected, "auto", "isolate"]));
    page.click(&format!("{phone} details.long summary")).await;
    let whole = page
        .until_with(
            "the whole value",
            "const whole = document.querySelector(arguments[0] + ' details.long[open] .whole'); \
             return whole === null ? null : whole.innerText;",
            vec![json!(phone)],
        )
        .await;
    assert_eq!(whole, json!(long));

    // The favicon, under the page's own policy.
    let icon = page
        .run(
            "return document.querySelector('link[rel=icon]').href",
            Vec::new(),
        )
        .await;
    assert_eq!(icon, json!(page.server.url("/admin/favicon.svg")));
    let reply = page
        .http
        .get(page.server.url("/admin/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "image/svg+xml");

    // The API docs fit a phone: nothing wider than the screen (a wide table scrolls within
    // itself); else the elements that stick out.
    page.browser.set_window_size(375, 812).await.unwrap();
    page.browser.goto(&page.server.url("/docs")).await.unwrap();
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth ? true : \
                [...document.querySelectorAll('body *')] \
                    .filter((node) => node.getBoundingClientRect().right > window.innerWidth \
                        && node.closest('table') === null) \
                    .slice(0, 5).map((node) => node.tagName + ' ' + node.textContent.slice(0, 60));";
    assert_eq!(page.run(fits, Vec::new()).await, true);
    page.close().await;
}
