//! [`PublicFlags`]: the flags a frontend may see, and nothing else.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// The `public` flags of a struct under their public names, with typed values.
///
/// It serializes to a JSON object such as `{"whatsapp": false, "image_generation": true}`. Only
/// flags marked `public` are in it, whatever else the struct holds; a secret flag cannot be public.
///
/// ```
/// use flags_core::{FeatureFlags, PublicValue};
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
/// assert_eq!(public.get("image_generation"), Some(&PublicValue::Bool(false)));
/// assert_eq!(public.get("max_images"), Some(&PublicValue::UInt(3)));
/// assert_eq!(public.get("backend"), None);
/// assert_eq!(public.len(), 2);
/// # Ok::<(), flags_core::FlagsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PublicFlags {
    entries: Vec<(&'static str, PublicValue)>,
}

impl PublicFlags {
    /// The entries that have a value.
    #[doc(hidden)]
    pub fn from_entries<const N: usize>(entries: [(&'static str, Option<PublicValue>); N]) -> Self {
        let entries = entries.into_iter();
        Self {
            entries: entries
                .filter_map(|(name, value)| Some((name, value?)))
                .collect(),
        }
    }

    /// The value of the flag whose public name is `name`.
    pub fn get(&self, name: &str) -> Option<&PublicValue> {
        self.entries
            .iter()
            .find(|(public, _)| *public == name)
            .map(|(_, value)| value)
    }

    /// Public names and values, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &PublicValue)> {
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

impl Serialize for PublicFlags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One public flag's value, as JSON types it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PublicValue {
    /// `null`: an `Option` that is `None`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// Text: strings, enum values, durations (`"30s"`).
    String(String),
    /// A list (`Vec<T>`).
    List(Vec<PublicValue>),
}

impl Serialize for PublicValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_none(),
            Self::Bool(value) => serializer.serialize_bool(*value),
            Self::Int(value) => serializer.serialize_i64(*value),
            Self::UInt(value) => serializer.serialize_u64(*value),
            Self::Float(value) => serializer.serialize_f64(*value),
            Self::String(value) => serializer.serialize_str(value),
            Self::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}
