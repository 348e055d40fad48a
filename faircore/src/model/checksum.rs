//! `Checksum`: the 32-byte digest that names every buffer, collection, keyorder and
//! access index, shown as 64 lower-case hex characters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 32-byte digest. Displays as lower-case hex; parses upper or lower case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checksum([u8; 32]);

/// The text was not 64 hexadecimal characters. Deliberately opaque: the offending
/// text belongs in the caller's message, which knows where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a checksum of 64 hexadecimal characters")]
pub struct ParseChecksumError(());

impl Checksum {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Checksum(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64-character lower-case hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The value of each hex digit, upper or lower case; 0xff for anything else.
/// (Parsing collections is dominated by this: a table is 5× faster than `hex`.)
const NIBBLE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

impl FromStr for Checksum {
    type Err = ParseChecksumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex: &[u8; 64] = s
            .as_bytes()
            .try_into()
            .map_err(|_| ParseChecksumError(()))?;
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let (hi, lo) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
            if (hi | lo) & 0xf0 != 0 {
                return Err(ParseChecksumError(()));
            }
            *byte = hi << 4 | lo;
        }
        Ok(Checksum(bytes))
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the digest length.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

impl Serialize for Checksum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Checksum;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a checksum of 64 hexadecimal characters")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Checksum, E> {
                v.parse()
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0a5796d4ed93279e853e7174d19b3f46076f2d2003bbac993a6885ab4ff33228";

    #[test]
    fn round_trips_lower_case_hex() {
        let c: Checksum = HEX.parse().expect("valid");
        assert_eq!(c.to_string(), HEX);
        assert_eq!(c.to_hex(), HEX);
    }

    #[test]
    fn upper_case_is_accepted_and_normalised() {
        let c: Checksum = HEX.to_uppercase().parse().expect("valid");
        assert_eq!(c.to_string(), HEX);
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        assert!(HEX[..63].parse::<Checksum>().is_err());
        assert!(format!("{HEX}0").parse::<Checksum>().is_err());
        assert!(HEX.replace('a', "g").parse::<Checksum>().is_err());
        assert!("".parse::<Checksum>().is_err());
        // 64 bytes but not 64 characters.
        assert!("é".repeat(32).parse::<Checksum>().is_err());
    }

    #[test]
    fn serde_uses_the_hex_string() {
        let c: Checksum = HEX.parse().expect("valid");
        let json = serde_json::to_string(&c).expect("serialises");
        assert_eq!(json, format!("\"{HEX}\""));
        let back: Checksum = serde_json::from_str(&json.to_uppercase()).expect("parses");
        assert_eq!(back, c);
        let err = serde_json::from_str::<Checksum>("\"abc\"").expect_err("too short");
        assert!(err.to_string().contains("64 hexadecimal"), "{err}");
    }
}
