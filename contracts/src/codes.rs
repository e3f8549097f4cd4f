//! Identifier rules (R1) of customs and logistics: UN/LOCODEs and their functions, customs
//! office codes and 18-digit declaration numbers, ISO 6346 container numbers, IATA air
//! waybills, HS codes, and GS1 SGLN read points. Every rule refuses with `BAD_IDENTIFIER` and
//! says why.
//!
//! Sources: domain.md §4.2 (the LOCODE table, from the UNECE data as packaged in
//! `geoapify/un-locode` `src/data/CN.csv`), §4.3 (customs office codes, declaration numbers)
//! and the identifier table (check digits).

use serde::{Deserialize, Serialize};

use crate::error::{ExecError, ResultCode};

fn bad(m: String) -> ExecError {
    ExecError::new(ResultCode::BadIdentifier, m)
}

/// The function of a location (the digits of the UN/LOCODE function column).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LocationFunction {
    /// 1: port (sea or inland waterway).
    Port,
    /// 2: rail terminal.
    Rail,
    /// 3: road terminal.
    Road,
    /// 4: airport.
    Airport,
    /// 6: inland clearance depot.
    InlandClearanceDepot,
}

impl LocationFunction {
    /// Its digit in the UN/LOCODE function column.
    pub fn digit(self) -> char {
        match self {
            LocationFunction::Port => '1',
            LocationFunction::Rail => '2',
            LocationFunction::Road => '3',
            LocationFunction::Airport => '4',
            LocationFunction::InlandClearanceDepot => '6',
        }
    }
}

/// One UN/LOCODE of the region: code, name, subdivision, function column.
#[derive(Debug, PartialEq, Eq)]
pub struct Locode {
    /// The five-character code.
    pub code: &'static str,
    /// The name.
    pub name: &'static str,
    /// ISO 3166-2 subdivision (BJ, TJ, HE).
    pub subdivision: &'static str,
    /// The function column (`---4----`).
    pub functions: &'static str,
}

impl Locode {
    /// True iff the location has `f`.
    pub fn has(&self, f: LocationFunction) -> bool {
        self.functions.contains(f.digit())
    }
}

/// The UN/LOCODEs of Beijing, Tianjin and Hebei the ledger knows (domain.md §4.2).
pub const LOCODES: &[Locode] = &[
    Locode {
        code: "CNPEK",
        name: "Beijing Capital International Apt",
        subdivision: "BJ",
        functions: "---4----",
    },
    Locode {
        code: "CNPKX",
        name: "Daxing",
        subdivision: "BJ",
        functions: "---4-6--",
    },
    Locode {
        code: "CNBJS",
        name: "Beijing",
        subdivision: "BJ",
        functions: "-23456--",
    },
    Locode {
        code: "CNTXG",
        name: "Tianjin Xingang Pt",
        subdivision: "TJ",
        functions: "1-------",
    },
    Locode {
        code: "CNTNG",
        name: "Tianjin Pt",
        subdivision: "TJ",
        functions: "1-------",
    },
    Locode {
        code: "CNDJG",
        name: "Dongjiang Port Area",
        subdivision: "TJ",
        functions: "1-------",
    },
    Locode {
        code: "CNTNJ",
        name: "Tianjin",
        subdivision: "TJ",
        functions: "12345---",
    },
    Locode {
        code: "CNTSN",
        name: "Tianjin Binhai International Apt",
        subdivision: "TJ",
        functions: "---4----",
    },
    Locode {
        code: "CNTGS",
        name: "Tangshan Pt",
        subdivision: "HE",
        functions: "1-------",
    },
    Locode {
        code: "CNJTG",
        name: "Jingtang Pt",
        subdivision: "HE",
        functions: "1-------",
    },
    Locode {
        code: "CNCFD",
        name: "Caofeidian Pt",
        subdivision: "HE",
        functions: "1-------",
    },
    Locode {
        code: "CNHUH",
        name: "Huanghua Pt",
        subdivision: "HE",
        functions: "1-------",
    },
    Locode {
        code: "CNSHP",
        name: "Qinhuangdao Pt",
        subdivision: "HE",
        functions: "1-------",
    },
];

/// The LOCODE `code`, if the ledger knows it.
pub fn locode(code: &str) -> Result<&'static Locode, ExecError> {
    LOCODES.iter().find(|l| l.code == code).ok_or_else(|| {
        let known: Vec<&str> = LOCODES.iter().map(|l| l.code).collect();
        bad(format!(
            "{code:?} is not a UN/LOCODE of the region (known: {})",
            known.join(", ")
        ))
    })
}

/// The LOCODE `code`, which must have function `f` ("CNTSN" is an airport: not a port).
pub fn locode_with(code: &str, f: LocationFunction) -> Result<&'static Locode, ExecError> {
    let l = locode(code)?;
    if !l.has(f) {
        return Err(bad(format!(
            "{code} ({}) has UN/LOCODE functions {}; it is not a {f:?} location (function {})",
            l.name,
            l.functions,
            f.digit()
        )));
    }
    Ok(l)
}

/// A customs office (关区) code the ledger knows, with the GB/T 2260 province it lies in.
#[derive(Debug, PartialEq, Eq)]
pub struct CustomsOffice {
    /// Four digits.
    pub code: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The province code (`110000`).
    pub province: &'static str,
}

/// Customs office codes (domain.md §4.3; Beijing's 0100 is a placeholder [M]).
pub const CUSTOMS_OFFICES: &[CustomsOffice] = &[
    CustomsOffice {
        code: "0100",
        name: "北京关区 (Beijing district)",
        province: "110000",
    },
    CustomsOffice {
        code: "0200",
        name: "天津关区 (Tianjin district)",
        province: "120000",
    },
    CustomsOffice {
        code: "0201",
        name: "天津海关 (Tianjin Customs)",
        province: "120000",
    },
    CustomsOffice {
        code: "0202",
        name: "新港海关 (Xingang Customs)",
        province: "120000",
    },
    CustomsOffice {
        code: "0203",
        name: "津开发区 (Tianjin development area)",
        province: "120000",
    },
    CustomsOffice {
        code: "0204",
        name: "东港 (Donggang)",
        province: "120000",
    },
    CustomsOffice {
        code: "0205",
        name: "津机场 (Tianjin airport)",
        province: "120000",
    },
    CustomsOffice {
        code: "0206",
        name: "津保税区 (Tianjin bonded zone)",
        province: "120000",
    },
    CustomsOffice {
        code: "0217",
        name: "天津东疆保税港区 (Dongjiang bonded port area)",
        province: "120000",
    },
    CustomsOffice {
        code: "0400",
        name: "石家庄关区 (Shijiazhuang district)",
        province: "130000",
    },
];

/// The customs office `code`.
pub fn customs_office(code: &str) -> Result<&'static CustomsOffice, ExecError> {
    CUSTOMS_OFFICES
        .iter()
        .find(|o| o.code == code)
        .ok_or_else(|| {
            let known: Vec<&str> = CUSTOMS_OFFICES.iter().map(|o| o.code).collect();
            bad(format!(
                "{code:?} is not a customs office code (关区代码) the ledger knows ({})",
                known.join(", ")
            ))
        })
}

/// Import or export.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IeFlag {
    /// Import (digit 9 is 1).
    Import,
    /// Export (digit 9 is 0).
    Export,
}

/// A customs declaration number (海关编号, 18 digits), checked: office, year, I/E.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationNo {
    /// The office that accepted it.
    pub office: &'static CustomsOffice,
    /// The year.
    pub year: u32,
    /// Import or export.
    pub ie: IeFlag,
}

/// Checks an 18-digit declaration number: a known 关区 prefix, a year 2000..=2099, digit 9 of
/// 1 (import) or 0 (export).
pub fn declaration_no(s: &str) -> Result<DeclarationNo, ExecError> {
    if s.len() != 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!(
            "declaration number {s:?} must be 18 digits (office · year · I/E · sequence), it has {} characters",
            s.chars().count()
        )));
    }
    let office = customs_office(&s[0..4])
        .map_err(|e| bad(format!("declaration number {s}: {}", e.message)))?;
    let year: u32 = s[4..8].parse().unwrap_or(0);
    if !(2000..=2099).contains(&year) {
        return Err(bad(format!(
            "declaration number {s}: year {year} is not in 2000..=2099"
        )));
    }
    let ie = match &s[8..9] {
        "1" => IeFlag::Import,
        "0" => IeFlag::Export,
        d => {
            return Err(bad(format!(
                "declaration number {s}: digit 9 is {d}; it is 1 (import) or 0 (export)"
            )))
        }
    };
    Ok(DeclarationNo { office, year, ie })
}

fn iso6346_letter_value(c: u8) -> Option<u32> {
    if !c.is_ascii_uppercase() {
        return None;
    }
    // A = 10, counting up and skipping the multiples of 11 (11, 22, 33).
    let mut v = 10;
    for _ in b'A'..c {
        v += 1;
        if v % 11 == 0 {
            v += 1;
        }
    }
    Some(v)
}

/// The ISO 6346 check digit of the first ten characters (owner code, category, serial).
pub fn iso6346_check_digit(first10: &str) -> Option<u32> {
    let b = first10.as_bytes();
    if b.len() != 10 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &c) in b.iter().enumerate() {
        let v = if i < 4 {
            iso6346_letter_value(c)?
        } else if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            return None;
        };
        sum += v << i;
    }
    Some(sum % 11 % 10)
}

/// Checks an ISO 6346 container number: three owner letters, a category letter (U, J or Z),
/// six serial digits and the check digit.
pub fn container_no(s: &str) -> Result<(), ExecError> {
    let b = s.as_bytes();
    let shape = b.len() == 11
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && matches!(b[3], b'U' | b'J' | b'Z')
        && b[4..].iter().all(u8::is_ascii_digit);
    if !shape {
        return Err(bad(format!(
            "container number {s:?} must be ISO 6346: 3 owner letters, U/J/Z, 6 digits, a check digit"
        )));
    }
    let expected = iso6346_check_digit(&s[..10]).unwrap_or(99);
    let got = u32::from(b[10] - b'0');
    if got != expected {
        return Err(bad(format!(
            "container number {s}: check digit is {got}, expected {expected} (ISO 6346)"
        )));
    }
    Ok(())
}

/// Checks an IATA air waybill number `PPP-SSSSSSSC`: a 3-digit airline prefix, seven serial
/// digits and a check digit equal to the serial mod 7.
pub fn air_waybill(s: &str) -> Result<(), ExecError> {
    let b = s.as_bytes();
    let shape = b.len() == 12
        && b[3] == b'-'
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_digit);
    if !shape {
        return Err(bad(format!(
            "air waybill {s:?} must be PPP-SSSSSSSC (3-digit airline prefix, hyphen, 8 digits)"
        )));
    }
    let serial: u64 = s[4..11].parse().unwrap_or(0);
    let expected = serial % 7;
    let got = u64::from(b[11] - b'0');
    if got != expected {
        return Err(bad(format!(
            "air waybill {s}: check digit is {got}, expected {expected} ({} mod 7)",
            &s[4..11]
        )));
    }
    Ok(())
}

/// Longest bill-of-lading number.
pub const MAX_BOL_BYTES: usize = 35;

/// Checks a bill-of-lading number: 4 to 35 characters of `A-Z 0-9 -` (carriers' formats vary;
/// there is no check digit).
pub fn bill_of_lading(s: &str) -> Result<(), ExecError> {
    let ok = (4..=MAX_BOL_BYTES).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(bad(format!(
            "bill of lading {s:?} must be 4 to {MAX_BOL_BYTES} characters of A-Z, 0-9 and '-'"
        )));
    }
    Ok(())
}

/// Checks an HS code as declared in China: 10 digits.
pub fn hs_code(s: &str) -> Result<(), ExecError> {
    if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("HS code {s:?} must be 10 digits")));
    }
    Ok(())
}

/// Checks an enterprise's 10-digit customs registration code (海关10位编码).
pub fn customs_code10(s: &str) -> Result<(), ExecError> {
    if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(format!(
            "customs registration code {s:?} must be 10 letters or digits"
        )));
    }
    Ok(())
}

/// Longest SGLN URI.
pub const MAX_SGLN_BYTES: usize = 80;

/// Checks a GS1 SGLN read point `urn:epc:id:sgln:<company prefix>.<location ref>.<extension>`:
/// prefix and location reference together 12 digits, the company prefix a GS1 China one
/// (690–699 [M]), an extension of 1 to 20 characters of `A-Z a-z 0-9`.
pub fn sgln(s: &str) -> Result<(), ExecError> {
    let err = |why: &str| {
        bad(format!(
            "read point {s:?} must be a GS1 SGLN urn:epc:id:sgln:<company prefix>.<location reference>.<extension>: {why}"
        ))
    };
    if s.len() > MAX_SGLN_BYTES {
        return Err(err("too long"));
    }
    let rest = s
        .strip_prefix("urn:epc:id:sgln:")
        .ok_or_else(|| err("wrong prefix"))?;
    let parts: Vec<&str> = rest.split('.').collect();
    let [prefix, loc, ext] = parts.as_slice() else {
        return Err(err("three dot-separated parts"));
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !digits(prefix) || !digits(loc) || prefix.len() < 6 || prefix.len() + loc.len() != 12 {
        return Err(err(
            "the company prefix (6 to 12 digits) and location reference make 12 digits",
        ));
    }
    if !prefix.starts_with("69") {
        return Err(err("the company prefix must be a GS1 China one (690-699)"));
    }
    if ext.is_empty() || ext.len() > 20 || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err("the extension is 1 to 20 letters or digits"));
    }
    Ok(())
}

/// A transport document or unit a shipment is found by.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TraceKind {
    /// An 18-digit declaration (entry) number.
    Entry,
    /// A bill of lading.
    BillOfLading,
    /// An IATA air waybill.
    AirWaybill,
    /// An ISO 6346 container.
    Container,
}

impl TraceKind {
    /// Its name in URLs and keys.
    pub fn as_str(&self) -> &'static str {
        match self {
            TraceKind::Entry => "entry",
            TraceKind::BillOfLading => "bol",
            TraceKind::AirWaybill => "awb",
            TraceKind::Container => "container",
        }
    }

    /// Checks `number` as a number of this kind.
    pub fn check(&self, number: &str) -> Result<(), ExecError> {
        match self {
            TraceKind::Entry => declaration_no(number).map(|_| ()),
            TraceKind::BillOfLading => bill_of_lading(number),
            TraceKind::AirWaybill => air_waybill(number),
            TraceKind::Container => container_no(number),
        }
    }

    /// What kind of number `s` looks like: 18 digits an entry, `PPP-SSSSSSSC` an air waybill,
    /// four letters and seven digits a container, anything else a bill of lading. The number
    /// is then checked as that kind.
    pub fn detect(s: &str) -> Result<TraceKind, ExecError> {
        let b = s.as_bytes();
        let kind = if b.len() == 18 && b.iter().all(u8::is_ascii_digit) {
            TraceKind::Entry
        } else if b.len() == 12 && b[3] == b'-' && b[..3].iter().all(u8::is_ascii_digit) {
            TraceKind::AirWaybill
        } else if b.len() == 11
            && b[..4].iter().all(u8::is_ascii_uppercase)
            && b[4..].iter().all(u8::is_ascii_digit)
        {
            TraceKind::Container
        } else {
            TraceKind::BillOfLading
        };
        kind.check(s)?;
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_of_domain_md_are_accepted_and_refused() {
        for ok in [
            "CNPEK", "CNPKX", "CNTXG", "CNTNG", "CNTGS", "CNJTG", "CNCFD",
        ] {
            locode(ok).expect(ok);
        }
        let e = locode_with("CNTSN", LocationFunction::Port).expect_err("airport");
        assert_eq!(e.code, ResultCode::BadIdentifier);
        assert!(e.message.contains("not a Port"), "{}", e.message);
        locode_with("CNTSN", LocationFunction::Airport).expect("an airport");
        locode_with("CNPKX", LocationFunction::InlandClearanceDepot).expect("Daxing ICD");
        assert!(locode("CNXXX").is_err());

        container_no("CSQU3054383").expect("CSQU3054383");
        container_no("TGHU1234567").expect("TGHU1234567");
        let e = container_no("TGHU1234568").expect_err("bad check");
        assert!(e.message.contains("expected 7"), "{}", e.message);
        assert!(container_no("TGHX1234567").is_err(), "category X");
        assert!(container_no("TGHU123456").is_err());

        air_waybill("999-12345675").expect("awb");
        let e = air_waybill("999-12345674").expect_err("bad check");
        assert!(e.message.contains("expected 5"), "{}", e.message);
        assert!(air_waybill("99912345675").is_err());

        let d = declaration_no("020220261000123456").expect("import");
        assert_eq!(
            (d.office.code, d.year, d.ie),
            ("0202", 2026, IeFlag::Import)
        );
        let d = declaration_no("010020260000654321").expect("export");
        assert_eq!(d.ie, IeFlag::Export);
        assert!(declaration_no("02022026100012345").is_err(), "17 digits");
        assert!(
            declaration_no("999920261000123456").is_err(),
            "unknown office"
        );
        assert!(declaration_no("020220262000123456").is_err(), "digit 9");
    }

    #[test]
    fn iso6346_letter_values_skip_multiples_of_eleven() {
        assert_eq!(iso6346_letter_value(b'A'), Some(10));
        assert_eq!(iso6346_letter_value(b'B'), Some(12));
        assert_eq!(iso6346_letter_value(b'K'), Some(21));
        assert_eq!(iso6346_letter_value(b'L'), Some(23));
        assert_eq!(iso6346_letter_value(b'U'), Some(32));
        assert_eq!(iso6346_letter_value(b'V'), Some(34));
        assert_eq!(iso6346_letter_value(b'Z'), Some(38));
    }

    #[test]
    fn sglns_and_trace_numbers() {
        sgln("urn:epc:id:sgln:6901234.00001.0").expect("sgln");
        sgln("urn:epc:id:sgln:690123456789..0")
            .expect("a 12-digit prefix leaves no location reference");
        for bad in [
            "urn:epc:id:sgln:4012345.00001.0",
            "urn:epc:id:sgln:6901234.0001.0",
            "urn:epc:id:sgln:6901234.00001.",
            "urn:epc:id:sgn:6901234.00001.0",
        ] {
            assert!(sgln(bad).is_err(), "{bad}");
        }
        assert_eq!(
            TraceKind::detect("010020260000654321").expect("entry"),
            TraceKind::Entry
        );
        assert_eq!(
            TraceKind::detect("999-12345675").expect("awb"),
            TraceKind::AirWaybill
        );
        assert_eq!(
            TraceKind::detect("CSQU3054383").expect("box"),
            TraceKind::Container
        );
        assert_eq!(
            TraceKind::detect("COSU6123456780").expect("bol"),
            TraceKind::BillOfLading
        );
        assert!(TraceKind::detect("999-12345674").is_err());
        assert!(TraceKind::detect("TGHU1234568").is_err());
    }
}
