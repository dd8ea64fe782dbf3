//! The settings of the seed application ("Rose the Healer Shaman"), declared with flags.
//!
//! Every flag of the seed's "Available Feature Flags", with its type, default, dependencies and
//! public exposure, and the variables those flags depend on.

use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, FlagValue, Rollout, Variants};

/// The checkpointer's database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
pub enum DatabaseType {
    /// A local SQLite file: one instance.
    Sqlite,
    /// PostgreSQL: many instances share one database.
    #[flag_value(alias = "postgres")]
    Postgresql,
}

/// How much the application logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
pub enum LogLevel {
    /// Everything, including per-request traces.
    Trace,
    /// Development detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    #[flag_value(alias = "warning")]
    Warn,
    /// Something failed.
    Error,
}

/// The application's settings.
#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
pub struct Settings {
    /// Enable WhatsApp integration.
    #[flag(
        default = false,
        public = "whatsapp",
        status = "frozen",
        group = "Core"
    )]
    #[flag(requires = ["WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_TOKEN", "WHATSAPP_VERIFY_TOKEN"])]
    pub whatsapp_enabled: bool,

    /// WhatsApp Business phone number id.
    #[flag(env = "WHATSAPP_PHONE_NUMBER_ID", group = "Core")]
    pub whatsapp_phone_number_id: Option<String>,

    /// WhatsApp Cloud API access token.
    #[flag(env = "WHATSAPP_TOKEN", secret, group = "Core")]
    pub whatsapp_token: Option<SecretString>,

    /// Token WhatsApp sends back when it verifies the webhook.
    #[flag(env = "WHATSAPP_VERIFY_TOKEN", secret, group = "Core")]
    pub whatsapp_verify_token: Option<SecretString>,

    /// Enable image generation via Together AI.
    #[flag(
        default = false,
        public = "image_generation",
        status = "frozen",
        group = "Core"
    )]
    #[flag(requires = "TOGETHER_API_KEY")]
    pub image_generation_enabled: bool,

    /// Together AI API key, for image generation.
    #[flag(env = "TOGETHER_API_KEY", secret, group = "Core")]
    pub together_api_key: Option<SecretString>,

    /// Enable caching of TTS responses.
    ///
    /// Impact: reduces API calls and costs, improves response time.
    /// Trade-off: uses more disk space.
    #[flag(default = true, group = "Core")]
    pub tts_cache_enabled: bool,

    /// Select database backend for checkpointer.
    ///
    /// Use case: horizontal scaling migration.
    // Read at start only: it chooses the checkpointer, and where live flags are kept.
    #[flag(default = DatabaseType::Sqlite, group = "Infrastructure", restart)]
    #[flag(when = DatabaseType::Postgresql, requires = "DATABASE_URL")]
    pub database_type: DatabaseType,

    /// The primary PostgreSQL database.
    #[flag(env = "DATABASE_URL", secret, group = "Infrastructure")]
    pub database_url: Option<SecretString>,

    /// Enable sticky sessions (route same user to same instance).
    ///
    /// Use case: performance optimization in multi-instance setup.
    /// Note: requires load balancer support.
    #[flag(default = false, group = "Infrastructure")]
    pub session_affinity_enabled: bool,

    /// Use read replicas for database queries.
    ///
    /// Use case: multi-region deployment with read replicas.
    #[flag(
        default = false,
        requires = "DATABASE_READ_REPLICA_URL",
        group = "Infrastructure",
        restart
    )]
    pub read_replica_enabled: bool,

    /// The read replica of the primary database.
    #[flag(env = "DATABASE_READ_REPLICA_URL", secret, group = "Infrastructure")]
    pub database_read_replica_url: Option<SecretString>,

    /// Enable multi-region routing and data partitioning.
    ///
    /// Use case: global deployment with regional databases.
    #[flag(default = false, group = "Infrastructure", restart)]
    #[flag(requires = ["DATABASE_URL_US", "DATABASE_URL_EU", "DATABASE_URL_ASIA"])]
    pub multi_region_enabled: bool,

    /// The United States regional database.
    #[flag(env = "DATABASE_URL_US", secret, group = "Infrastructure")]
    pub database_url_us: Option<SecretString>,

    /// The European regional database.
    #[flag(env = "DATABASE_URL_EU", secret, group = "Infrastructure")]
    pub database_url_eu: Option<SecretString>,

    /// The Asian regional database.
    #[flag(env = "DATABASE_URL_ASIA", secret, group = "Infrastructure")]
    pub database_url_asia: Option<SecretString>,

    /// Enable API rate limiting.
    ///
    /// Recommendation: always enabled in production.
    #[flag(
        env = "RATE_LIMIT_ENABLED",
        default = true,
        group = "Security & Performance"
    )]
    pub rate_limit_enabled: bool,

    /// Enable security headers (CSP, HSTS, etc.).
    ///
    /// Recommendation: always enabled in production.
    #[flag(
        env = "ENABLE_SECURITY_HEADERS",
        default = true,
        group = "Security & Performance"
    )]
    pub enable_security_headers: bool,

    /// Enable OpenAPI/Swagger documentation.
    ///
    /// Recommendation: enabled in dev/staging, optional in production.
    #[flag(
        env = "ENABLE_API_DOCS",
        default = true,
        group = "Security & Performance"
    )]
    pub enable_api_docs: bool,

    /// The new UI, rolled out gradually: a share of users, and users allowed or denied by id.
    #[flag(default = Rollout::new("", 0), public = "new_ui", group = "Experiments")]
    pub new_ui: Rollout,

    /// The style of the healer's greeting: an A/B test between named variants.
    #[flag(
        default = Variants::new("", &[("classic", 1000)]),
        public = "greeting_style",
        group = "Experiments"
    )]
    pub greeting_style: Variants,

    /// The environment this deployment is (`development`, `staging`, `production`): the admin
    /// page's header names it, beside the application and the host.
    #[flag(env = "ENVIRONMENT", group = "Operations", restart)]
    pub environment: Option<String>,

    /// Token that authorizes flag changes through the admin API.
    #[flag(env = "ADMIN_TOKEN", secret, group = "Operations")]
    pub admin_token: Option<SecretString>,

    /// A file of `name:sha256-hex-of-token` lines (what `printf %s "$TOKEN" | sha256sum`
    /// prints): an admin token for each person or system, audited under its name, kept as its
    /// digest only; `:read` after a line's digest makes a token that reads and never changes.
    /// `ADMIN_TOKEN` still works beside it, as actor `admin`.
    #[flag(env = "ADMIN_TOKENS_FILE", group = "Operations", restart)]
    pub admin_tokens_file: Option<std::path::PathBuf>,

    /// Token with which other services read every flag but the secrets over OpenFeature's
    /// remote evaluation protocol (OFREP); it changes nothing.
    #[flag(env = "CLIENT_TOKEN", secret, group = "Operations")]
    pub client_token: Option<SecretString>,

    /// The Unleash API that drives the live flags, as Unleash's SDKs take it
    /// (`http://localhost:4242/api`): with it, `rose serve` follows Unleash, app name
    /// `rose-healer`, and every live flag that is not secret is changed there.
    #[flag(
        env = "UNLEASH_URL",
        group = "Operations",
        restart,
        requires = "UNLEASH_API_KEY"
    )]
    pub unleash_url: Option<String>,

    /// Unleash client (backend) token, `project:environment.secret`.
    #[flag(env = "UNLEASH_API_KEY", secret, group = "Operations")]
    pub unleash_api_key: Option<SecretString>,

    /// How often `rose serve` reads Unleash's toggles again.
    #[flag(
        env = "UNLEASH_REFRESH_INTERVAL",
        default = std::time::Duration::from_secs(15),
        group = "Operations",
        restart
    )]
    pub unleash_refresh_interval: std::time::Duration,

    /// LaunchDarkly server-side SDK key of the environment (`sdk-…`): with it, `rose serve`
    /// follows LaunchDarkly (the application's context is of kind `service`, key `rose-healer`),
    /// and every live flag that is not secret is changed there.
    #[flag(env = "LAUNCHDARKLY_SDK_KEY", secret, group = "Operations")]
    pub launchdarkly_sdk_key: Option<SecretString>,

    /// A LaunchDarkly Relay Proxy that `rose serve` connects through, for its flag data and its
    /// events (`http://relay:8030`).
    #[flag(
        env = "LAUNCHDARKLY_RELAY_PROXY_URL",
        group = "Operations",
        restart,
        requires = "LAUNCHDARKLY_SDK_KEY"
    )]
    pub launchdarkly_relay_proxy_url: Option<String>,

    /// LaunchDarkly's streaming service, for an instance other than LaunchDarkly's own (a
    /// private or federal one), with the polling and events services.
    #[flag(
        env = "LAUNCHDARKLY_STREAM_URL",
        group = "Operations",
        restart,
        requires = ["LAUNCHDARKLY_SDK_KEY", "LAUNCHDARKLY_POLLING_URL", "LAUNCHDARKLY_EVENTS_URL"]
    )]
    pub launchdarkly_stream_url: Option<String>,

    /// LaunchDarkly's polling service, with LAUNCHDARKLY_STREAM_URL.
    #[flag(
        env = "LAUNCHDARKLY_POLLING_URL",
        group = "Operations",
        restart,
        requires = "LAUNCHDARKLY_STREAM_URL"
    )]
    pub launchdarkly_polling_url: Option<String>,

    /// LaunchDarkly's events service, with LAUNCHDARKLY_STREAM_URL.
    #[flag(
        env = "LAUNCHDARKLY_EVENTS_URL",
        group = "Operations",
        restart,
        requires = "LAUNCHDARKLY_STREAM_URL"
    )]
    pub launchdarkly_events_url: Option<String>,

    /// Start LaunchDarkly's SDK offline: it connects to nothing, and the flags keep the
    /// environment's values.
    #[flag(
        env = "LAUNCHDARKLY_OFFLINE",
        default = false,
        group = "Operations",
        restart
    )]
    pub launchdarkly_offline: bool,

    /// Send LaunchDarkly its analytics events: each per-user decision, as the SDK's `variation`
    /// calls do.
    #[flag(
        env = "LAUNCHDARKLY_SEND_EVENTS",
        default = true,
        group = "Operations",
        restart
    )]
    pub launchdarkly_send_events: bool,

    /// How much the application logs.
    #[flag(env = "LOG_LEVEL", default = LogLevel::Info, group = "Operations")]
    pub log_level: LogLevel,
}
