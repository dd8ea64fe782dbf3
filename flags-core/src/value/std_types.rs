//! [`FlagValue`] for the standard library's types that a variable often holds: IP and socket
//! addresses, and non-zero integers. (Any other type with `FromStr` and `Display` is read with
//! `#[flag(from_str)]`.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize, NonZeroU8,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU128, NonZeroUsize,
};

use serde_json::Value;

use super::{FlagValue, ValueError, trim};

macro_rules! addresses {
    ($($address:ty => $expected:literal)*) => {$(
        impl FlagValue for $address {
            fn parse_env(text: &str) -> Result<Self, ValueError> {
                trim(text).parse().map_err(|_| ValueError::known($expected))
            }

            fn to_env(&self) -> String {
                self.to_string()
            }

            fn is_unset(&self) -> bool {
                false
            }
        }
    )*};
}

addresses! {
    IpAddr => "an IP address such as 127.0.0.1 or ::1"
    Ipv4Addr => "an IPv4 address such as 127.0.0.1"
    Ipv6Addr => "an IPv6 address such as ::1"
    SocketAddr => "an address and port such as 127.0.0.1:8080 or [::1]:8080"
    SocketAddrV4 => "an IPv4 address and port such as 127.0.0.1:8080"
    SocketAddrV6 => "an IPv6 address and port such as [::1]:8080"
}

macro_rules! non_zero {
    ($($non_zero:ty => $int:ty)*) => {$(
        impl FlagValue for $non_zero {
            fn parse_env(text: &str) -> Result<Self, ValueError> {
                trim(text).parse().map_err(|_| {
                    let (min, max) = (<$int>::MIN, <$int>::MAX);
                    ValueError::known(if min == 0 {
                        format!("an integer from 1 to {max}")
                    } else {
                        format!("an integer from {min} to {max}, other than 0")
                    })
                })
            }

            fn to_env(&self) -> String {
                self.to_string()
            }

            fn is_unset(&self) -> bool {
                false
            }

            fn to_public(&self) -> Value {
                self.get().to_public()
            }
        }
    )*};
}

non_zero! {
    NonZeroU8 => u8
    NonZeroU16 => u16
    NonZeroU32 => u32
    NonZeroU64 => u64
    NonZeroU128 => u128
    NonZeroUsize => usize
    NonZeroI8 => i8
    NonZeroI16 => i16
    NonZeroI32 => i32
    NonZeroI64 => i64
    NonZeroI128 => i128
    NonZeroIsize => isize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_parse_trimmed_and_say_what_they_expect() {
        assert_eq!(
            IpAddr::parse_env(" 10.0.0.1 "),
            Ok(IpAddr::from([10, 0, 0, 1]))
        );
        assert_eq!(
            SocketAddr::parse_env("[::1]:8080").unwrap().to_env(),
            "[::1]:8080"
        );
        assert_eq!(
            SocketAddr::parse_env("localhost:80")
                .unwrap_err()
                .what_was_expected(),
            "an address and port such as 127.0.0.1:8080 or [::1]:8080"
        );
        assert!(Ipv4Addr::parse_env("::1").is_err());
    }

    #[test]
    fn non_zero_integers_say_their_range_and_are_numbers_in_public() {
        assert_eq!(
            NonZeroU16::parse_env("0").unwrap_err().what_was_expected(),
            "an integer from 1 to 65535"
        );
        assert_eq!(
            NonZeroI8::parse_env("0").unwrap_err().what_was_expected(),
            "an integer from -128 to 127, other than 0"
        );
        assert_eq!(
            NonZeroU32::parse_env("42").unwrap().to_public(),
            Value::from(42)
        );
    }

    proptest! {
        #[test]
        fn std_values_round_trip(
            ip in any::<IpAddr>(),
            // Display leaves out an IPv6 socket's flow info: an address and a port round-trip.
            socket in any::<(IpAddr, u16)>().prop_map(SocketAddr::from),
            count in any::<NonZeroU64>(),
            offset in any::<NonZeroI32>(),
        ) {
            prop_assert_eq!(IpAddr::parse_env(&ip.to_env()), Ok(ip));
            prop_assert_eq!(SocketAddr::parse_env(&socket.to_env()), Ok(socket));
            prop_assert_eq!(NonZeroU64::parse_env(&count.to_env()), Ok(count));
            prop_assert_eq!(NonZeroI32::parse_env(&offset.to_env()), Ok(offset));
        }

        #[test]
        fn no_text_makes_a_std_parser_panic(text in any::<String>()) {
            let _ = SocketAddr::parse_env(&text);
            let _ = NonZeroU8::parse_env(&text);
        }
    }
}
