//! [`FlagMeta`] and [`Requirement`] as serde data: the model [`docs::json`](crate::docs::json)
//! renders, built from the public accessors alone.

use serde::ser::{Serialize, SerializeStruct, Serializer};

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
        let shown = |text: Option<String>| text.filter(|_| !self.is_secret());
        let mut flag = serializer.serialize_struct("FlagMeta", 15)?;
        flag.serialize_field("aliases", &Aliases(self.aliases()))?;
        flag.serialize_field("default", &shown(self.default_summary()))?;
        flag.serialize_field("description", self.description())?;
        flag.serialize_field("env", self.env())?;
        flag.serialize_field("expires", &self.expires())?;
        flag.serialize_field("field", self.field())?;
        flag.serialize_field("group", &self.group())?;
        flag.serialize_field("public", &self.public_name())?;
        flag.serialize_field("required", &self.is_required())?;
        flag.serialize_field("requires", &Requirements(self))?;
        flag.serialize_field("restart", &self.needs_restart())?;
        flag.serialize_field("secret", &self.is_secret())?;
        flag.serialize_field("status", &self.status())?;
        flag.serialize_field("type", self.type_name())?;
        flag.serialize_field("values", self.values())?;
        flag.end()
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
        RequirementFields {
            vars: self.vars(),
            when: self.when(),
        }
        .serialize(serializer)
    }
}

/// A flag's other names for its values, as a map from the name to the value.
struct Aliases(&'static [(&'static str, &'static str)]);

impl Serialize for Aliases {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

/// A flag's requirements, with their `when` hidden when the flag is secret: it is the flag's value.
struct Requirements<'a>(&'a FlagMeta);

impl Serialize for Requirements<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let flag = self.0;
        serializer.collect_seq(flag.requires().iter().map(|requirement| RequirementFields {
            vars: requirement.vars(),
            when: requirement.when().filter(|_| !flag.is_secret()),
        }))
    }
}

/// What a serialized [`Requirement`] holds, its `when` already hidden where it must be.
struct RequirementFields {
    vars: &'static [&'static str],
    when: Option<String>,
}

impl Serialize for RequirementFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut requirement = serializer.serialize_struct("Requirement", 2)?;
        requirement.serialize_field("vars", self.vars)?;
        requirement.serialize_field("when", &self.when)?;
        requirement.end()
    }
}
