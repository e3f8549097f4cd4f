//! Identifier rules (R1): the Unified Social Credit Code (GB 32100-2015) and GB/T 2260 region
//! codes.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 31 characters a USCC may use (no I, O, Z, S, V), in value order.
pub const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights `3^(i-1) mod 31` for positions 1..=17.
pub const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a USCC is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    /// Not 18 characters.
    #[error("a USCC has 18 characters, {0:?} has {1}")]
    Length(String, usize),
    /// A character outside the charset.
    #[error("{0:?}: character {1:?} at position {2} is not allowed (the charset is 0-9 and A-Y without I, O, S, V, Z)")]
    Charset(String, char, usize),
    /// Positions 3-8 are not six digits.
    #[error("{0:?}: positions 3-8 must be a six-digit GB/T 2260 region code")]
    Region(String),
    /// The check character does not match.
    #[error("{0:?}: check character is {1:?}, expected {2:?}")]
    Check(String, char, char),
}

fn char_value(c: u8) -> Option<u32> {
    USCC_CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The check character for the first 17 characters (which must be in the charset).
pub fn uscc_check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum: u32 = 0;
    for (c, w) in first17.iter().zip(USCC_WEIGHTS) {
        sum += char_value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(USCC_CHARSET[check as usize] as char)
}

/// A validated Unified Social Credit Code.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uscc(String);

/// Parses a USCC argument, refusing a malformed one with `BAD_IDENTIFIER`.
pub fn parse_uscc(s: &str) -> Result<Uscc, crate::error::ExecError> {
    Uscc::parse(s).map_err(|e| {
        crate::error::ExecError::new(crate::error::ResultCode::BadIdentifier, e.to_string())
    })
}

impl Uscc {
    /// Validates per GB 32100-2015: 18 characters of the charset, digits in positions 3-8,
    /// and the check character.
    pub fn parse(s: &str) -> Result<Uscc, UsccError> {
        let b = s.as_bytes();
        if s.chars().count() != 18 || b.len() != 18 {
            return Err(UsccError::Length(s.into(), s.chars().count()));
        }
        for (i, &c) in b.iter().enumerate() {
            if char_value(c).is_none() {
                return Err(UsccError::Charset(s.into(), c as char, i + 1));
            }
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(UsccError::Region(s.into()));
        }
        let expected = uscc_check_char(&b[..17]).ok_or_else(|| UsccError::Region(s.into()))?;
        if b[17] as char != expected {
            return Err(UsccError::Check(s.into(), b[17] as char, expected));
        }
        Ok(Uscc(s.into()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 1-2: registration authority and organisation category (e.g. "91").
    pub fn category(&self) -> &str {
        &self.0[0..2]
    }

    /// Positions 3-8: the GB/T 2260 region of the registering authority.
    pub fn region(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.0)
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// A newtype struct named `Uscc` around the text: JSON and BCS show the text alone (both encode
// a newtype as its content); the name is for the record schema (`crate::schema`).
impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("Uscc", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = crate::time::newtype::<String, D>("Uscc", d)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks a GB/T 2260 region code: six digits, a province prefix in 11..=82, not all zero
/// below the province where it claims a city or district with zeros in between.
pub fn validate_region_code(code: &str) -> Result<(), crate::error::ExecError> {
    let err = |m: String| crate::error::ExecError::new(crate::error::ResultCode::BadIdentifier, m);
    let b = code.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return Err(err(format!(
            "region code {code:?} must be six digits (GB/T 2260)"
        )));
    }
    let province = (b[0] - b'0') * 10 + (b[1] - b'0');
    if !(11..=82).contains(&province) {
        return Err(err(format!(
            "region code {code:?}: province {province:02} is not a GB/T 2260 province"
        )));
    }
    if &code[2..4] == "00" && &code[4..6] != "00" {
        return Err(err(format!(
            "region code {code:?}: a district needs a city part (positions 3-4)"
        )));
    }
    Ok(())
}

/// Checks free text: not empty after trimming, at most `max` bytes, no control characters.
pub fn validate_text(field: &str, value: &str, max: usize) -> Result<(), crate::error::ExecError> {
    let err =
        |m: String| crate::error::ExecError::new(crate::error::ResultCode::InvalidArgument, m);
    if value.trim().is_empty() {
        return Err(err(format!("{field} must not be empty")));
    }
    if value.len() > max {
        return Err(err(format!(
            "{field} is {} bytes, over the limit of {max}",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(err(format!("{field} must not contain control characters")));
    }
    Ok(())
}

/// Longest free-text reference (basis documents, reasons, names) in bytes.
pub const MAX_REF_BYTES: usize = 200;

/// Checks a record id (licence, commitment, seal, agreement...): 1..=`max` bytes of
/// `A-Z a-z 0-9 . _ : -`, so it can stand in a URL path unescaped.
pub fn validate_id(field: &str, value: &str, max: usize) -> Result<(), crate::error::ExecError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
    if value.is_empty() || value.len() > max || !value.chars().all(ok_char) {
        return Err(crate::error::ExecError::new(
            crate::error::ResultCode::BadIdentifier,
            format!("{field} {value:?} must be 1 to {max} characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'"),
        ));
    }
    Ok(())
}

/// Longest code (licence type, seal type, scope...).
pub const MAX_CODE_BYTES: usize = 64;

/// Checks a code: 1..=64 characters of `A-Z 0-9 _ : . -`.
pub fn validate_code(field: &str, value: &str) -> Result<(), crate::error::ExecError> {
    let err =
        |m: String| crate::error::ExecError::new(crate::error::ResultCode::InvalidArgument, m);
    let ok_char = |c: char| {
        c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | ':' | '.' | '-')
    };
    if value.is_empty() || value.len() > MAX_CODE_BYTES || !value.chars().all(ok_char) {
        return Err(err(format!(
            "{field} {value:?} must be 1 to {MAX_CODE_BYTES} characters of A-Z, 0-9, '_', ':', '.' and '-'"
        )));
    }
    Ok(())
}

/// True iff a department whose jurisdiction is region `jurisdiction` covers region `region`
/// (GB/T 2260: a province code `xx0000` covers its cities and districts, a city `xxxx00` its
/// districts).
pub fn region_covers(jurisdiction: &str, region: &str) -> bool {
    if jurisdiction.len() != 6 || region.len() != 6 {
        return false;
    }
    jurisdiction == region
        || (jurisdiction.ends_with("0000") && jurisdiction[..2] == region[..2])
        || (jurisdiction.ends_with("00") && jurisdiction[..4] == region[..4])
}
