//! Shared pieces of the customs, logistics and data-sharing end-to-end tests: the demo
//! genesis with the departments those scenarios need, and the calls they make.

use std::collections::BTreeSet;

use concordat_contracts::codes::LocationFunction;
use concordat_contracts::logistics::LogisticsCall;
use concordat_contracts::sharing::{DataCategory, Grant, SharingCall, SharingPurpose};
use concordat_contracts::Call;
use concordat_primitives::SecretKey;
pub use concordat_testkit::customs::*;
use serde_json::{json, Value};

/// The Daxing cargo terminal (CARGO_TERMINAL; synthetic).
pub const DXTERM: &str = "91110115MA04DXCT11";
/// Bank branch B1 (RELYING_PARTY; synthetic).
pub const B1: &str = "91110102MA00BK8R3J";
/// Bank branch B2 (RELYING_PARTY; synthetic).
pub const B2: &str = "91110102MA00BK9T6J";
/// A city-wide Beijing registrar (synthetic), for parties outside Chaoyang.
pub const BJREG: &str = "11110000MB18BJRG2J";

/// The departments [`add_departments`] adds, with their key seeds: the Daxing terminal (71),
/// B1 (72), B2 (73), the Beijing registrar (74).
pub const EXTRA_DEPARTMENTS: &[(&str, &str, &str, &str, u8)] = &[
    (
        DXTERM,
        "大兴机场货站 (Daxing cargo terminal, synthetic)",
        "110115",
        "CARGO_TERMINAL",
        71,
    ),
    (B1, "银行支行 B1 (synthetic)", "110102", "RELYING_PARTY", 72),
    (B2, "银行支行 B2 (synthetic)", "110102", "RELYING_PARTY", 73),
    (
        BJREG,
        "北京市市场监管局 (Beijing market regulation, synthetic)",
        "110000",
        "REGISTRAR",
        74,
    ),
];

/// Adds [`EXTRA_DEPARTMENTS`] to a demo network's genesis (before its first start).
pub fn add_departments(net: &std::path::Path) {
    for file in [
        net.join("genesis.json"),
        net.join("node0").join("genesis.json"),
    ] {
        let mut g: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("genesis")).expect("json");
        for (uscc, name, region, role, seed) in EXTRA_DEPARTMENTS {
            g["departments"]
                .as_array_mut()
                .expect("departments")
                .push(json!({
                    "uscc": uscc, "name": name, "region": region, "roles": [role],
                    "member_keys": [SecretKey::from_seed([*seed; 32]).public_key().to_hex()],
                }));
        }
        std::fs::write(&file, serde_json::to_string_pretty(&g).expect("json")).expect("write");
    }
}

/// A data-sharing call.
pub fn share(c: SharingCall) -> Call {
    Call::Sharing(c)
}

/// Scenario 10's authorisation of B1 by E1 (three categories), ending `until`.
pub fn grant(id: &str, until: &str, max_uses: u32) -> Grant {
    Grant {
        auth_id: id.into(),
        grantee: B1.into(),
        purpose: SharingPurpose::SmeCreditAssessment,
        categories: [
            DataCategory::TaxCreditGrade,
            DataCategory::TaxPaidSummary24m,
            DataCategory::SocialInsuranceHeadcount,
        ]
        .into(),
        valid_from: t("2026-05-14T10:00:00+08:00"),
        valid_until: t(until),
        max_uses,
        grantor_signature_id: format!("SIG-{id}"),
        policy_url: "https://credit.example.cn/policy".into(),
        collection_method: "e-seal signed authorisation on credit-finance platform".into(),
        personal_consent: None,
        consented_at: t("2026-05-14T10:00:00+08:00"),
    }
}

/// B1's (or anyone's) access request under `auth`.
pub fn request(access: &str, auth: &str, cats: &[DataCategory]) -> Call {
    share(SharingCall::Request {
        access_id: access.into(),
        auth_id: auth.into(),
        purpose: SharingPurpose::SmeCreditAssessment,
        categories: cats.iter().copied().collect::<BTreeSet<_>>(),
    })
}

/// Registers airport read point `rp` at `locode` (by the terminal's `operator` key) and has
/// `customs` designate it customs-controlled.
pub fn controlled_airport_read_point(
    c: &crate::net::Client,
    operator: &SecretKey,
    customs: &SecretKey,
    rp: &str,
    locode: &str,
) {
    c.ok(
        operator,
        Call::Logistics(LogisticsCall::RegisterReadPoint {
            read_point: rp.into(),
            name: format!("{locode} cargo terminal"),
            locode: locode.into(),
            function: LocationFunction::Airport,
        }),
    );
    c.ok(
        customs,
        Call::Logistics(LogisticsCall::DesignateControlled {
            read_point: rp.into(),
            controlled: true,
        }),
    );
}
