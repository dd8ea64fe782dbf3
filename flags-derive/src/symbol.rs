//! Attribute names and keys, in one place so parsing, suggestions and messages agree.

pub const FLAGS: &str = "flags";
pub const FLAG: &str = "flag";
pub const FLAG_VALUE: &str = "flag_value";

pub const PREFIX: &str = "prefix";
pub const DENY_UNKNOWN: &str = "deny_unknown";
pub const STRUCT_KEYS: &[&str] = &[PREFIX, DENY_UNKNOWN];

pub const DEFAULT: &str = "default";
pub const ENV: &str = "env";
pub const REQUIRES: &str = "requires";
pub const WHEN: &str = "when";
pub const PUBLIC: &str = "public";
pub const SECRET: &str = "secret";
pub const STATUS: &str = "status";
pub const SERDE: &str = "serde";
pub const FROM_STR: &str = "from_str";
pub const GROUP: &str = "group";
pub const EXPIRES: &str = "expires";
pub const ROLLOUT_GROUP: &str = "rollout_group";
pub const RESTART: &str = "restart";
pub const LIVE: &str = "live";
pub const MANAGED_AS: &str = "managed_as";
pub const FIELD_KEYS: &[&str] = &[
    DEFAULT,
    ENV,
    REQUIRES,
    WHEN,
    PUBLIC,
    SECRET,
    STATUS,
    SERDE,
    FROM_STR,
    GROUP,
    EXPIRES,
    ROLLOUT_GROUP,
    RESTART,
    LIVE,
    MANAGED_AS,
];

pub const RENAME: &str = "rename";
pub const ALIAS: &str = "alias";
pub const VARIANT_KEYS: &[&str] = &[RENAME, ALIAS];
