//! [`FlagMeta`] and [`Requirement`] as serde data: the model [`docs::json`](crate::docs::json)
//! renders, built from the public accessors alone.

use serde::{Serialize, Serializer};

use super::{FlagMeta, Requirement};

/// A flag as an object whose keys are in alphabetical order, as tools that sort keys write them:
/// `aliases`, `default`, `description`, `env`, `expires`, `field`, `group`, `public`,
/// `required`, `requires`, `restart`, `secret`, `status`, `type`, `values`. A secret flag's `default` and
/// its requirements' `when` are `None` (JSON's `null`); `aliases` maps each other name a value
/// accepts to the value.
///
/// ```
/// use flags_core::FeatureFlags;
/// use flags_core::secrecy::SecretString;
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(env = "ADMIN_TOKEN", secret, default = "canary")]
///     admin_token: SecretString,
/// }
///
/// let json = serde_json::to_value(&Settings::FLAGS[0]).unwrap();
/// assert_eq!(json["env"], "ADMIN_TOKEN");
/// assert_eq!(json["secret"], true);
/// assert!(json["default"].is_null());
/// ```
impl Serialize for FlagMeta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let secret = self.is_secret();
        let requires = self.requires().iter().map(|requirement| RequirementJson {
            vars: requirement.vars(),
            // A secret flag's `when` is its value.
            when: requirement.when().filter(|_| !secret),
        });
        FlagJson {
            aliases: self.aliases(),
            default: self.default_summary().filter(|_| !secret),
            description: self.description(),
            env: self.env(),
            expires: self.expires(),
            field: self.field(),
            group: self.group(),
            public: self.public_name(),
            required: self.is_required(),
            requires: requires.collect(),
            restart: self.needs_restart(),
            secret,
            status: self.status(),
            type_name: self.type_name(),
            values: self.values(),
        }
        .serialize(serializer)
    }
}

/// A requirement as an object with `vars` and `when` (`None` for "when on").
///
/// Its `when` is the flag's value as [`Requirement::when`] gives it: a secret flag's
/// [`FlagMeta`] serializes its requirements with `when` hidden, so serialize a flag, not its
/// requirements alone, wherever a secret flag may be among them.
///
/// ```
/// use flags_core::FeatureFlags;
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(default = false, requires = "WHATSAPP_TOKEN")]
///     whatsapp_enabled: bool,
///     #[flag(env = "WHATSAPP_TOKEN")]
///     whatsapp_token: Option<String>,
/// }
///
/// let json = serde_json::to_string(&Settings::FLAGS[0].requires()[0]).unwrap();
/// assert_eq!(json, r#"{"vars":["WHATSAPP_TOKEN"],"when":null}"#);
/// ```
impl Serialize for Requirement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RequirementJson {
            vars: self.vars(),
            when: self.when(),
        }
        .serialize(serializer)
    }
}

/// What a serialized [`FlagMeta`] holds, its secrets already hidden; fields in the JSON's order.
#[derive(Serialize)]
#[serde(rename = "FlagMeta")]
struct FlagJson<'a> {
    #[serde(serialize_with = "pairs_as_map")]
    aliases: &'a [(&'a str, &'a str)],
    default: Option<String>,
    description: &'a str,
    env: &'a str,
    expires: Option<&'a str>,
    field: &'a str,
    group: Option<&'a str>,
    public: Option<&'a str>,
    required: bool,
    requires: Vec<RequirementJson>,
    restart: bool,
    secret: bool,
    status: Option<&'a str>,
    #[serde(rename = "type")]
    type_name: &'a str,
    values: &'a [&'a str],
}

/// What a serialized [`Requirement`] holds, its `when` already hidden where it must be.
#[derive(Serialize)]
#[serde(rename = "Requirement")]
struct RequirementJson {
    vars: &'static [&'static str],
    when: Option<String>,
}

/// Name-value pairs as a map, in their order.
pub(crate) fn pairs_as_map<K, V, S>(pairs: &[(K, V)], serializer: S) -> Result<S::Ok, S::Error>
where
    K: Serialize,
    V: Serialize,
    S: Serializer,
{
    serializer.collect_map(pairs.iter().map(|(key, value)| (key, value)))
}
