//! Building transactions on the client: the JSON form of a [`Call`], local checks that save a
//! nonce on an obviously bad call, signing, and demo identifiers.
//!
//! The JSON form of a call is serde's form of [`Call`] (externally tagged enums), e.g.
//! `{"Party":{"Register":{"uscc":"91110105MA01R7K442","name":"…","legal_rep_ref":null,
//! "registered_address":"…"}}}`. See `docs/transactions.md`.

use concordat_contracts::ids::{uscc_check_char, USCC_CHARSET};
use concordat_contracts::{Call, SignedTransaction, Transaction};
use concordat_primitives::ledger::validate_chain_id;
use concordat_primitives::SecretKey;

/// Why a call or transaction was refused before signing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TxBuildError {
    /// The text is not JSON, or not the JSON form of a call.
    #[error("not a valid call: {0}")]
    CallJson(String),
    /// The JSON names a field the call does not have (a typo would otherwise be dropped).
    #[error("not a valid call: unknown field `{field}` in {path}")]
    UnknownField {
        /// Where (e.g. `Party.Register`).
        path: String,
        /// The field.
        field: String,
    },
    /// The call is well formed but the ledger would refuse it.
    #[error("the call would be refused: {0}")]
    Invalid(String),
    /// Bad chain id.
    #[error("{0}")]
    ChainId(String),
}

/// Parses the JSON form of a call, refusing unknown fields anywhere in it, then runs
/// [`precheck_call`].
pub fn parse_call_json(text: &str) -> Result<Call, TxBuildError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TxBuildError::CallJson(e.to_string()))?;
    let call: Call =
        serde_json::from_value(value.clone()).map_err(|e| TxBuildError::CallJson(e.to_string()))?;
    let canonical =
        serde_json::to_value(&call).map_err(|e| TxBuildError::CallJson(e.to_string()))?;
    find_unknown_field(&value, &canonical, &mut Vec::new())?;
    precheck_call(&call)?;
    Ok(call)
}

fn find_unknown_field(
    given: &serde_json::Value,
    canonical: &serde_json::Value,
    path: &mut Vec<String>,
) -> Result<(), TxBuildError> {
    use serde_json::Value;
    match (given, canonical) {
        (Value::Object(g), Value::Object(c)) => {
            for (field, gv) in g {
                let Some(cv) = c.get(field) else {
                    return Err(TxBuildError::UnknownField {
                        path: if path.is_empty() {
                            "the call".into()
                        } else {
                            path.join(".")
                        },
                        field: field.clone(),
                    });
                };
                path.push(field.clone());
                find_unknown_field(gv, cv, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Array(g), Value::Array(c)) => {
            for (i, (gv, cv)) in g.iter().zip(c).enumerate() {
                path.push(i.to_string());
                find_unknown_field(gv, cv, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The checks of a call that need no state (identifiers, text limits, department shape), so
/// that a call the ledger would refuse for its form alone is not signed and does not use up a
/// nonce. These are the contract modules' own checks ([`Call::precheck`]), the same the node
/// runs at admission. State-dependent refusals (already registered, wrong status, roles) are
/// the ledger's.
pub fn precheck_call(call: &Call) -> Result<(), TxBuildError> {
    call.precheck()
        .map_err(|e| TxBuildError::Invalid(e.to_string()))
}

/// Builds and signs a transaction of `key`'s public key.
pub fn sign_call(
    key: &SecretKey,
    chain_id: &str,
    nonce: u64,
    expiry_height: u64,
    call: Call,
) -> Result<SignedTransaction, TxBuildError> {
    validate_chain_id(chain_id).map_err(TxBuildError::ChainId)?;
    Ok(Transaction {
        chain_id: chain_id.into(),
        signer: key.public_key(),
        nonce,
        expiry_height,
        call,
    }
    .sign(key))
}

/// Number of distinct organisation codes [`demo_uscc`] can make: `31^9`.
pub const DEMO_USCC_SPACE: u64 = 31u64.pow(9);

/// A valid USCC for a demo enterprise: `"91"` (enterprise) + the six-digit `region` + the
/// nine-character organisation code encoding `serial` (mod [`DEMO_USCC_SPACE`]) in the USCC
/// charset + the GB 32100 check character. `None` if `region` is not six digits.
pub fn demo_uscc(region: &str, serial: u64) -> Option<String> {
    if region.len() != 6 || !region.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut code = [b'0'; 9];
    let mut n = serial % DEMO_USCC_SPACE;
    for slot in code.iter_mut().rev() {
        *slot = USCC_CHARSET[(n % 31) as usize];
        n /= 31;
    }
    let mut first17 = Vec::with_capacity(17);
    first17.extend_from_slice(b"91");
    first17.extend_from_slice(region.as_bytes());
    first17.extend_from_slice(&code);
    let check = uscc_check_char(&first17)?;
    let mut s = String::from_utf8(first17).ok()?;
    s.push(check);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_usccs_are_valid_and_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for serial in [0, 1, 30, 31, 12_345_678, DEMO_USCC_SPACE - 1] {
            let u = demo_uscc("110105", serial).expect("uscc");
            concordat_contracts::ids::Uscc::parse(&u).expect("valid GB 32100 code");
            assert!(u.starts_with("91110105"));
            assert!(seen.insert(u));
        }
        assert_eq!(demo_uscc("110105", 0), demo_uscc("110105", DEMO_USCC_SPACE));
        assert_eq!(demo_uscc("11010", 0), None);
    }

    #[test]
    fn call_json_round_trips_and_refuses_unknown_fields() {
        let text = r#"{"Governance":{"Propose":{"action":{"RemoveDepartment":{"uscc":"11120000MB02T9J49M"}},"expires_at_height":500}}}"#;
        let call = parse_call_json(text).expect("valid");
        assert_eq!(
            serde_json::to_value(&call).expect("json"),
            serde_json::from_str::<serde_json::Value>(text).expect("json")
        );
        let typo = r#"{"Governance":{"Propose":{"action":{"RemoveDepartment":{"uscc":"11120000MB02T9J49M","why":"x"}},"expires_at_height":500}}}"#;
        assert_eq!(
            parse_call_json(typo),
            Err(TxBuildError::UnknownField {
                path: "Governance.Propose.action.RemoveDepartment".into(),
                field: "why".into()
            })
        );
        let bad_region =
            r#"{"Party":{"MoveOut":{"uscc":"91110105MA01R7K442","to_region":"990000"}}}"#;
        assert!(matches!(
            parse_call_json(bad_region),
            Err(TxBuildError::Invalid(_))
        ));
    }
}
