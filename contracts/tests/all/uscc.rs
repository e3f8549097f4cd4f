//! The USCC fixtures of domain.md, accepted or rejected exactly as listed.

use concordat_contracts::ids::{uscc_check_char, validate_region_code, Uscc, UsccError};

const ACCEPT: &[&str] = &[
    "91350100M000100Y43",
    "91110108551385082Q",
    "91110105MA01R7K442",
    "91120116MA07TJ3P7W",
    "91130200MA0FT29NX6",
    "91110115MA04DX6C86",
    "91110108MA01HX2U95",
    "92110105MA00GT5H4X",
    "91120118MA06KG8W87",
    "11110000MB01A7C368",
    "11120000MB02T9J49M",
    "11110000MB03K8E2XU",
    "11130000MB08HB2T02",
    "11110000MB04P6Q10W",
    "11110000MB05H3L77G",
    "11120000MB09TJ4C2U",
    "11110000MB12CT5A2W",
    "11120000MB13TC7K4M",
    "12110000MB07C9G5XJ",
    "12120000MB10HP3D97",
    "12110000MB11HF6G6N",
    "91110102MA00BK8R3J",
    "91110102MA00BK9T6J",
];

#[test]
fn every_listed_code_is_accepted() {
    for code in ACCEPT {
        let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code} must be accepted: {e}"));
        assert_eq!(u.as_str(), *code);
    }
}

#[test]
fn standard_example_check_character_is_3() {
    assert_eq!(uscc_check_char(b"91350100M000100Y4"), Some('3'));
    assert_eq!(uscc_check_char(b"91110108551385082"), Some('Q'));
}

#[test]
fn listed_rejections() {
    assert!(matches!(
        Uscc::parse("91350100M000100Y4Z"),
        Err(UsccError::Charset(_, 'Z', 18))
    ));
    assert!(matches!(
        Uscc::parse("91110105MA01R7K443"),
        Err(UsccError::Check(_, '3', '2'))
    ));
    assert!(matches!(
        Uscc::parse("91110105MA01R7K4I2"),
        Err(UsccError::Charset(_, 'I', 17))
    ));
    assert!(matches!(
        Uscc::parse("91110105MA01R7K44"),
        Err(UsccError::Length(_, 17))
    ));
    assert!(matches!(
        Uscc::parse("91110105MA01R7K4422"),
        Err(UsccError::Length(_, 19))
    ));
    assert!(Uscc::parse("").is_err());
    assert!(
        Uscc::parse("9111010５MA01R7K442").is_err(),
        "non-ASCII digit"
    );
    assert!(Uscc::parse("91110105ma01r7k442").is_err(), "lower case");
}

#[test]
fn every_single_character_change_of_a_valid_code_is_caught() {
    // The mod-31 check catches every single substitution within the charset.
    let charset = concordat_contracts::ids::USCC_CHARSET;
    for code in ACCEPT {
        for pos in 0..18 {
            for &c in charset.iter() {
                let mut b = code.as_bytes().to_vec();
                if b[pos] == c {
                    continue;
                }
                b[pos] = c;
                let s = String::from_utf8(b).expect("ascii");
                assert!(
                    Uscc::parse(&s).is_err(),
                    "{s} (from {code}) must be rejected"
                );
            }
        }
    }
}

#[test]
fn serde_validates() {
    assert!(serde_json::from_str::<Uscc>("\"91110105MA01R7K442\"").is_ok());
    assert!(serde_json::from_str::<Uscc>("\"91110105MA01R7K443\"").is_err());
}

#[test]
fn region_codes() {
    for ok in [
        "110000", "120000", "130000", "110105", "110108", "110115", "120116", "130200",
    ] {
        assert!(validate_region_code(ok).is_ok(), "{ok}");
    }
    for bad in ["11000", "1100000", "abcdef", "000000", "990000", "110015"] {
        assert!(validate_region_code(bad).is_err(), "{bad}");
    }
}
