//! [`PublicFlags`]: the flags a frontend may see, and nothing else.

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

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
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct PublicFlags {
    /// In declaration order, which the JSON object keeps.
    #[serde(serialize_with = "crate::meta::pairs_as_map")]
    entries: Vec<(&'static str, PublicValue)>,
}

impl PublicFlags {
    /// Adds the flag whose public name is `name`.
    pub(crate) fn push(&mut self, name: &'static str, value: PublicValue) {
        self.entries.push((name, value));
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

impl PublicValue {
    /// The value of anything serde can serialize, as JSON would type it: numbers, strings, unit
    /// variants as their names, sequences as lists, `None` as `Null`. `None` for maps, structs and
    /// variants with data, which one variable cannot hold.
    pub(crate) fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Option<Self> {
        value.serialize(to_public::Serializer).ok()
    }

    /// The text a variable would hold: scalars as text, lists comma-separated, `Null` empty.
    pub(crate) fn to_env_text(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Bool(value) => value.to_string(),
            Self::Int(value) => value.to_string(),
            Self::UInt(value) => value.to_string(),
            Self::Float(value) => value.to_string(),
            Self::String(value) => value.clone(),
            Self::List(items) => items
                .iter()
                .map(Self::to_env_text)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// A serde `Serializer` into [`PublicValue`], for `#[flag(serde)]` fields.
mod to_public {
    use std::fmt;

    use serde::ser::{self, Impossible, Serialize};

    use super::PublicValue;

    /// What a `PublicValue` cannot hold: maps, structs, variants with data.
    #[derive(Debug)]
    pub struct Unsupported(String);

    impl fmt::Display for Unsupported {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Unsupported {}

    impl ser::Error for Unsupported {
        fn custom<T: fmt::Display>(message: T) -> Self {
            Self(message.to_string())
        }
    }

    fn unsupported<T>(what: &str) -> Result<T> {
        Err(Unsupported(format!(
            "{what} cannot be one variable's value"
        )))
    }

    pub struct Serializer;

    /// A sequence or tuple being collected.
    pub struct List(Vec<PublicValue>);

    type Result<T = PublicValue> = std::result::Result<T, Unsupported>;

    impl ser::Serializer for Serializer {
        type Ok = PublicValue;
        type Error = Unsupported;
        type SerializeSeq = List;
        type SerializeTuple = List;
        type SerializeTupleStruct = List;
        type SerializeTupleVariant = Impossible<PublicValue, Unsupported>;
        type SerializeMap = Impossible<PublicValue, Unsupported>;
        type SerializeStruct = Impossible<PublicValue, Unsupported>;
        type SerializeStructVariant = Impossible<PublicValue, Unsupported>;

        fn serialize_bool(self, value: bool) -> Result {
            Ok(PublicValue::Bool(value))
        }
        fn serialize_i8(self, value: i8) -> Result {
            Ok(PublicValue::Int(value.into()))
        }
        fn serialize_i16(self, value: i16) -> Result {
            Ok(PublicValue::Int(value.into()))
        }
        fn serialize_i32(self, value: i32) -> Result {
            Ok(PublicValue::Int(value.into()))
        }
        fn serialize_i64(self, value: i64) -> Result {
            Ok(PublicValue::Int(value))
        }
        fn serialize_u8(self, value: u8) -> Result {
            Ok(PublicValue::UInt(value.into()))
        }
        fn serialize_u16(self, value: u16) -> Result {
            Ok(PublicValue::UInt(value.into()))
        }
        fn serialize_u32(self, value: u32) -> Result {
            Ok(PublicValue::UInt(value.into()))
        }
        fn serialize_u64(self, value: u64) -> Result {
            Ok(PublicValue::UInt(value))
        }
        fn serialize_f32(self, value: f32) -> Result {
            Ok(PublicValue::Float(value.into()))
        }
        fn serialize_f64(self, value: f64) -> Result {
            Ok(PublicValue::Float(value))
        }
        fn serialize_char(self, value: char) -> Result {
            Ok(PublicValue::String(value.to_string()))
        }
        fn serialize_str(self, value: &str) -> Result {
            Ok(PublicValue::String(value.to_owned()))
        }
        fn serialize_bytes(self, value: &[u8]) -> Result {
            let bytes = value.iter().map(|byte| PublicValue::UInt((*byte).into()));
            Ok(PublicValue::List(bytes.collect()))
        }
        fn serialize_none(self) -> Result {
            Ok(PublicValue::Null)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Result {
            Ok(PublicValue::Null)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result {
            Ok(PublicValue::Null)
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
            Ok(PublicValue::String(variant.to_owned()))
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result {
            unsupported("an enum variant with data")
        }
        fn serialize_seq(self, length: Option<usize>) -> Result<List> {
            Ok(List(Vec::with_capacity(length.unwrap_or_default())))
        }
        fn serialize_tuple(self, length: usize) -> Result<List> {
            Ok(List(Vec::with_capacity(length)))
        }
        fn serialize_tuple_struct(self, _: &'static str, length: usize) -> Result<List> {
            Ok(List(Vec::with_capacity(length)))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant> {
            unsupported("an enum variant with data")
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
            unsupported("a map")
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
            unsupported("a struct")
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant> {
            unsupported("an enum variant with data")
        }
    }

    impl List {
        fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
            self.0.push(value.serialize(Serializer)?);
            Ok(())
        }
    }

    /// Sequences, tuples and tuple structs all become a `List`.
    macro_rules! list {
        ($($trait:ident::$method:ident),*) => {$(
            impl ser::$trait for List {
                type Ok = PublicValue;
                type Error = Unsupported;
                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                    self.push(value)
                }
                fn end(self) -> Result {
                    Ok(PublicValue::List(self.0))
                }
            }
        )*};
    }

    list!(
        SerializeSeq::serialize_element,
        SerializeTuple::serialize_element,
        SerializeTupleStruct::serialize_field
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializable_values_become_public_values_as_json_types_them() {
        assert_eq!(
            PublicValue::from_serialize(&true),
            Some(PublicValue::Bool(true))
        );
        assert_eq!(
            PublicValue::from_serialize(&-3i16),
            Some(PublicValue::Int(-3))
        );
        assert_eq!(
            PublicValue::from_serialize(&7u8),
            Some(PublicValue::UInt(7))
        );
        assert_eq!(
            PublicValue::from_serialize(&None::<u8>),
            Some(PublicValue::Null)
        );
        assert_eq!(
            PublicValue::from_serialize(&vec![Some("a"), None]),
            Some(PublicValue::List(vec![
                PublicValue::String("a".into()),
                PublicValue::Null
            ]))
        );
        let map: std::collections::BTreeMap<&str, u8> = [("a", 1)].into();
        assert_eq!(PublicValue::from_serialize(&map), None);
    }

    #[test]
    fn public_values_write_back_as_a_variables_text() {
        let list = PublicValue::List(vec![PublicValue::UInt(1), PublicValue::UInt(2)]);
        assert_eq!(list.to_env_text(), "1,2");
        assert_eq!(PublicValue::Null.to_env_text(), "");
        assert_eq!(PublicValue::String("fast".into()).to_env_text(), "fast");
    }
}
