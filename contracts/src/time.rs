//! Civil dates and times in China Standard Time (UTC+08:00, no daylight saving), computed
//! without a clock: the block's proposer time comes in as milliseconds since the Unix epoch.
//!
//! Business dates (a document's date, a licence's validity) are [`Date`]s; windows in months
//! ("two months after issue", "three months of publicity") are calendar months, clamped to the
//! last day of a shorter month (2026-01-31 + 1 month = 2026-02-28).

use core::fmt;

use concordat_primitives::time;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;
/// UTC+08:00 in milliseconds.
pub const CST_OFFSET_MS: u64 = 8 * 3_600_000;

/// A calendar date (proleptic Gregorian), years 1970..=9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

fn days_in_month(y: u32, m: u32) -> u32 {
    time::days_in_month(i64::from(y), i64::from(m)) as u32
}

impl Date {
    /// A date, if it exists and lies in 1970..=9999.
    pub fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Parses `YYYY-MM-DD` (exactly that form).
    pub fn parse(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        let digits = |r: core::ops::Range<usize>| -> Option<u32> {
            b.get(r.clone())
                .filter(|d| d.iter().all(u8::is_ascii_digit))
                .map(|d| d.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0')))
        };
        let parsed = (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
            .then(|| Some((digits(0..4)?, digits(5..7)?, digits(8..10)?)))
            .flatten();
        match parsed {
            Some((y, m, d)) => Date::new(y, m, d).ok_or_else(|| {
                format!("{s:?} is not a calendar date between 1970-01-01 and 9999-12-31")
            }),
            None => Err(format!("{s:?} is not a date of the form YYYY-MM-DD")),
        }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> u64 {
        let (y, m, d) = (self.year, self.month, self.day);
        time::days_from_civil(i64::from(y), i64::from(m), i64::from(d)) as u64
    }

    /// The date `days` after 1970-01-01 (saturating at 9999-12-31).
    pub fn from_days(days: u64) -> Date {
        let (y, m, d) = time::civil_from_days(days.min(2_932_896) as i64);
        Date {
            year: y as u16,
            month: m as u8,
            day: d as u8,
        }
    }

    /// The China Standard Time date of a Unix time in milliseconds.
    pub fn of_ms(ms: u64) -> Date {
        Date::from_days(ms.saturating_add(CST_OFFSET_MS) / DAY_MS)
    }

    /// Milliseconds since the epoch at 00:00 China Standard Time on this date.
    pub fn start_ms(self) -> u64 {
        (self.days_since_epoch() * DAY_MS).saturating_sub(CST_OFFSET_MS)
    }

    /// The date `n` days later (saturating).
    pub fn add_days(self, n: u64) -> Date {
        Date::from_days(self.days_since_epoch().saturating_add(n))
    }

    /// The same day `n` calendar months later, clamped to the month's last day.
    pub fn add_months(self, n: u32) -> Date {
        let total = u32::from(self.year) * 12 + u32::from(self.month) - 1 + n;
        let (y, m) = ((total / 12).min(9999), total % 12 + 1);
        let d = u32::from(self.day).min(days_in_month(y, m));
        Date::new(y, m, d).unwrap_or(Date {
            year: 9999,
            month: 12,
            day: 31,
        })
    }

    /// The year.
    pub fn year(self) -> u32 {
        u32::from(self.year)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

// A newtype struct named `Date` around the text: JSON and BCS show the text alone (both encode
// a newtype as its content); the name is for the record schema (`crate::schema`).
impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("Date", &self.to_string())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = newtype::<String, D>("Date", d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Deserializes the newtype struct `name` around a `T` (what a named newtype's `Serialize`
/// writes); a format that does not mark newtypes hands over the `T` itself.
pub(crate) fn newtype<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    name: &'static str,
    d: D,
) -> Result<T, D::Error> {
    struct V<T>(core::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a newtype struct")
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
            T::deserialize(d)
        }
    }
    d.deserialize_newtype_struct(name, V(core::marker::PhantomData))
}

/// A business time (a customs decision's time, an EPCIS `eventTime`): milliseconds since the
/// Unix epoch. Its JSON form is RFC 3339 (any offset is read; it is written in China Standard
/// Time, `+08:00`); in canonical bytes it is the number. Business times are carried beside the
/// ledger's own commit time, which stays authoritative for when the state changed (domain.md
/// principle 3).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// Parses RFC 3339 (`2026-09-08T10:00:00+08:00`).
    pub fn parse(s: &str) -> Result<Instant, String> {
        time::parse_rfc3339_ms(s)
            .map(Instant)
            .map_err(|_| format!("{s:?} is not an RFC 3339 time (2026-09-08T10:00:00+08:00)"))
    }

    /// Milliseconds since the Unix epoch.
    pub fn ms(self) -> u64 {
        self.0
    }

    /// Refuses an instant RFC 3339 cannot write (after 9999-12-31T23:59:59.999Z): a call's
    /// business times are checked with this before anything reads them.
    pub fn check(self, field: &str) -> Result<(), crate::error::ExecError> {
        if self.0 > time::MAX_RFC3339_MS {
            return Err(crate::error::invalid(format!(
                "{field} is {} ms after the epoch, past 9999-12-31T23:59:59.999Z",
                self.0
            )));
        }
        Ok(())
    }

    /// Its China Standard Time date.
    pub fn date(self) -> Date {
        Date::of_ms(self.0)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&time::format_rfc3339_ms(self.0, 8 * 60))
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant({self})")
    }
}

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_string())
        } else {
            // A newtype named `Instant` (BCS: the number alone) for the record schema.
            s.serialize_newtype_struct("Instant", &self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Instant::parse(&s).map_err(serde::de::Error::custom)
        } else {
            newtype::<u64, D>("Instant", d).map(Instant)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    #[test]
    fn days_round_trip_over_every_day_of_several_centuries() {
        for days in 0..(366 * 400) {
            let date = Date::from_days(days);
            assert_eq!(date.days_since_epoch(), days, "{date}");
            assert_eq!(Date::parse(&date.to_string()), Ok(date));
        }
        assert_eq!(Date::from_days(0), d("1970-01-01"));
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
    }

    #[test]
    fn month_windows_follow_the_calendar() {
        // Scenario 1 of domain.md: issued 2026-05-06, checked within two months.
        assert_eq!(d("2026-05-06").add_months(2), d("2026-07-06"));
        // Publicity of a GENERAL record from 2026-06-25: 3 months to 1 year.
        assert_eq!(d("2026-06-25").add_months(3), d("2026-09-25"));
        assert_eq!(d("2026-06-25").add_months(12), d("2027-06-25"));
        assert_eq!(d("2026-01-31").add_months(1), d("2026-02-28"));
        assert_eq!(d("2028-01-31").add_months(1), d("2028-02-29"));
        assert_eq!(d("2026-11-30").add_months(3), d("2027-02-28"));
    }

    #[test]
    fn china_standard_time_starts_eight_hours_before_utc_midnight() {
        let start = d("2026-05-06").start_ms();
        assert_eq!(Date::of_ms(start), d("2026-05-06"));
        assert_eq!(Date::of_ms(start - 1), d("2026-05-05"));
        // 2026-05-05T16:00:00Z is 2026-05-06T00:00:00+08:00.
        assert_eq!(start, 1_777_996_800_000);
    }

    #[test]
    fn malformed_dates_are_refused() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "1969-12-31",
            "2026-5-6",
            "2026/05/06",
            "20260506",
            "２０２６-05-06",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(Date::parse("2024-02-29").is_ok());
    }

    #[test]
    fn instants_read_any_offset_and_show_china_standard_time() {
        let t = Instant::parse("2026-09-08T02:00:00Z").expect("utc");
        assert_eq!(t, Instant::parse("2026-09-08T10:00:00+08:00").expect("cst"));
        assert_eq!(t.to_string(), "2026-09-08T10:00:00+08:00");
        let json = serde_json::to_string(&t).expect("json");
        assert_eq!(serde_json::from_str::<Instant>(&json).expect("back"), t);
        let bcs = concordat_primitives::encoding::to_bytes(&t);
        assert_eq!(
            bcs,
            t.0.to_le_bytes().to_vec(),
            "a number in canonical bytes"
        );
        assert!(Instant::parse("2026-09-08 10:00").is_err());
    }
}
