//! ISO 8601 / RFC 3339 timestamps <-> milliseconds since the Unix epoch, without a clock.
//!
//! The ledger keeps instants as `u64` milliseconds (UTC). People and JSON see them as
//! `YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)`; domain times use `+08:00`.

/// Why a timestamp was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an RFC 3339 timestamp like 2026-05-06T10:00:00+08:00 (on or after 1970)")]
pub struct TimeParseError(pub String);

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d`.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    // Howard Hinnant's days-from-civil algorithm (public domain description).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(y, m, d)` of day `z` since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Days in month `m` of year `y`.
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses an RFC 3339 timestamp to milliseconds since the Unix epoch.
pub fn parse_rfc3339_ms(s: &str) -> Result<u64, TimeParseError> {
    let err = || TimeParseError(s.to_string());
    let b = s.as_bytes();
    let num = |r: core::ops::Range<usize>| -> Result<i64, TimeParseError> {
        let part = b.get(r).ok_or_else(err)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        Ok(part
            .iter()
            .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0')))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(err());
    }
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return Err(err());
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start || end - start > 9 {
            return Err(err());
        }
        let frac = num(start..end)?;
        millis = frac * 1000 / 10i64.pow((end - start) as u32);
        i = end;
    }
    let offset_min = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return Err(err());
            }
            let m = oh * 60 + om;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return Err(err()),
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    let ms = secs * 1000 + millis;
    u64::try_from(ms).map_err(|_| err())
}

/// The last millisecond RFC 3339 can write: 9999-12-31T23:59:59.999Z.
pub const MAX_RFC3339_MS: u64 = 253_402_300_799_999;

/// Formats milliseconds since the Unix epoch as RFC 3339 with the given offset in minutes
/// (480 for `+08:00`). Times after [`MAX_RFC3339_MS`] (which RFC 3339 cannot write) are written
/// as that instant; the arithmetic cannot overflow whatever the input.
pub fn format_rfc3339_ms(ms: u64, offset_min: i32) -> String {
    let offset_min = offset_min.clamp(-24 * 60 + 1, 24 * 60 - 1);
    let total = ms.min(MAX_RFC3339_MS) as i64 + i64::from(offset_min) * 60_000;
    let (days, rem) = (total.div_euclid(86_400_000), total.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, frac) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let off = if offset_min == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_min < 0 { '-' } else { '+' };
        format!(
            "{sign}{:02}:{:02}",
            offset_min.abs() / 60,
            offset_min.abs() % 60
        )
    };
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{off}")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}{off}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_any_u64_cannot_overflow() {
        for ms in [u64::MAX, i64::MAX as u64, MAX_RFC3339_MS + 1] {
            assert_eq!(
                format_rfc3339_ms(ms, 480),
                format_rfc3339_ms(MAX_RFC3339_MS, 480)
            );
            let _ = format_rfc3339_ms(ms, i32::MAX);
            let _ = format_rfc3339_ms(ms, i32::MIN);
        }
        assert_eq!(format_rfc3339_ms(u64::MAX, 0), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T08:00:00+08:00"), Ok(0));
        // 2026-05-06T10:00:00+08:00 = 2026-05-06T02:00:00Z = 1778032800 s.
        assert_eq!(
            parse_rfc3339_ms("2026-05-06T10:00:00+08:00"),
            Ok(1_778_032_800_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T00:00:00.5Z"),
            Ok(951_782_400_500)
        );
        assert_eq!(
            format_rfc3339_ms(1_778_032_800_000, 480),
            "2026-05-06T10:00:00+08:00"
        );
        assert_eq!(
            format_rfc3339_ms(951_782_400_500, 0),
            "2000-02-29T00:00:00.500Z"
        );
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "2026-05-06 10:00:00+08:00",
            "2026-02-30T00:00:00Z",
            "2026-05-06T10:00:00",
            "2026-05-06T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-05-06T10:00:00+0800",
            "2026-05-06T10:00:00.Z",
        ] {
            assert!(parse_rfc3339_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        for ms in [
            0u64,
            1,
            999,
            86_399_999,
            1_778_032_800_123,
            4_102_444_800_000,
        ] {
            assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms, 480)), Ok(ms));
            assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms, 0)), Ok(ms));
        }
    }
}
