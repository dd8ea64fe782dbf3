//! [`PublicFlags`]: the flags a frontend may see, and nothing else.

use serde::Serialize;
use serde_json::Value;

/// The `public` flags of a struct under their public names, with typed values.
///
/// It serializes to a JSON object such as `{"whatsapp": false, "image_generation": true}`. Only
/// flags marked `public` are in it, whatever else the struct holds; a secret flag cannot be public.
///
/// ```
/// use flags_core::FeatureFlags;
/// use flags_core::serde_json::{Value, json};
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(default = true, public = "image_generation")]
///     image_generation_enabled: bool,
///     #[flag(default = 3, public)]
///     max_images: u8,
///     #[flag(default = "internal")]
///     backend: String,
/// }
///
/// let settings = Settings::from_iter([("IMAGE_GENERATION_ENABLED", "false")])?;
/// let public = settings.public_flags();
/// assert_eq!(public.get("image_generation"), Some(&Value::Bool(false)));
/// assert_eq!(public.get("max_images"), Some(&json!(3)));
/// assert_eq!(public.get("backend"), None);
/// assert_eq!(public.len(), 2);
/// # Ok::<(), flags_core::FlagsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct PublicFlags {
    /// In declaration order, which the JSON object keeps.
    #[serde(serialize_with = "crate::meta::pairs_as_map")]
    entries: Vec<(&'static str, Value)>,
}

impl PublicFlags {
    /// Adds the flag whose public name is `name`.
    pub(crate) fn push(&mut self, name: &'static str, value: Value) {
        self.entries.push((name, value));
    }

    /// The value of the flag whose public name is `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(public, _)| *public == name)
            .map(|(_, value)| value)
    }

    /// Public names and values, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.entries.iter().map(|(name, value)| (*name, value))
    }

    /// How many flags are public.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no flag is public.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
