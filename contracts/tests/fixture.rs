//! The domain.md §9.0 baseline for scenario tests: departments with their roles, enterprises
//! registered with their signing keys, and seal helpers (Ed25519 and SM2).

#![allow(dead_code, missing_docs)]

use std::collections::BTreeSet;

use concordat_contracts::party::PartyCall;
use concordat_contracts::seal::{
    signature_message, DocType, HexBytes, SealAlgorithm, SealCall, SignaturePurpose, SignerKey,
};
use concordat_contracts::{Call, Role};
use concordat_primitives::{Hash, SecretKey};
use sm2::dsa::signature::Signer;

use crate::harness::*;

/// A-BJSAMR (Chaoyang market regulation): registrar, licensing, enforcement, inspector.
pub const BJSAMR: usize = 0;
/// A-TJSAMR: registrar and licensing authority in Tianjin.
pub const TJSAMR: usize = 1;
/// The seal registry (the A-BJTAX fixture USCC stands in for it).
pub const SEALS: usize = 2;
/// A-HBTAX: a department with no role these modules use.
pub const OTHER: usize = 3;

pub const E1: &str = "91110105MA01R7K442";
pub const E2: &str = "91120116MA07TJ3P7W";
pub const E6: &str = "92110105MA00GT5H4X";

/// Department member key of fixture department `i`.
pub fn dept_key(i: usize) -> SecretKey {
    key(i as u8 + 1)
}

/// The signing key bound to enterprise `uscc`.
pub fn ent_key(uscc: &str) -> SecretKey {
    let i = [E1, E2, E6].iter().position(|u| *u == uscc).expect("fixture enterprise");
    key(50 + i as u8)
}

pub fn dept_uscc(i: usize) -> String {
    DEPT_USCCS[i].to_string()
}

/// The baseline chain: departments, enterprises E1, E2, E6 registered with keys.
pub fn baseline() -> Chain {
    let depts = vec![
        department(
            BJSAMR,
            &[
                Role::Registrar,
                Role::LicensingAuthority,
                Role::EnforcementAuthority,
                Role::Inspector,
            ],
        ),
        {
            let mut d = department(TJSAMR, &[Role::Registrar, Role::LicensingAuthority]);
            d.region = "120000".into();
            d
        },
        department(SEALS, &[Role::SealRegistry]),
        department(OTHER, &[Role::TaxAuthority]),
    ];
    let mut chain = Chain::new(&depts);
    chain.at("2026-05-01T08:00");
    for (u, name) in [(E1, "北京京韵云链科技有限公司"), (E2, "天津港航通物流有限公司"), (E6, "北京市朝阳区老刘餐馆")] {
        let registrar = if u == E2 { TJSAMR } else { BJSAMR };
        chain.ok(
            &dept_key(registrar),
            Call::Party(PartyCall::Register {
                uscc: u.into(),
                name: name.into(),
                legal_rep_ref: None,
                registered_address: "样例路1号".into(),
            }),
        );
        chain.ok(
            &dept_key(registrar),
            Call::Party(PartyCall::SetKeys {
                uscc: u.into(),
                keys: BTreeSet::from([ent_key(u).public_key()]),
            }),
        );
    }
    chain
}

/// A deterministic SM2 signing key.
pub fn sm2_key(seed: u8) -> sm2::dsa::SigningKey {
    sm2::dsa::SigningKey::from_slice(concordat_contracts::seal::SM2_DIST_ID, &[seed; 32])
        .expect("valid scalar")
}

/// A seal signer key (Ed25519 seed or SM2 seed) valid for years around 2026.
pub fn signer_key(algorithm: SealAlgorithm, seed: u8) -> SignerKey {
    let public_key = match algorithm {
        SealAlgorithm::Ed25519 => key(seed).public_key().as_bytes().to_vec(),
        SealAlgorithm::Sm2Sm3 => sm2_key(seed).verifying_key().to_sec1_bytes().to_vec(),
    };
    SignerKey {
        algorithm,
        public_key: HexBytes(public_key),
        valid_from_ms: 1_700_000_000_000,
        valid_until_ms: 1_900_000_000_000,
    }
}

/// Signs `msg` with the seal key of `algorithm` and `seed`.
pub fn seal_sign(algorithm: SealAlgorithm, seed: u8, msg: &[u8]) -> Vec<u8> {
    match algorithm {
        SealAlgorithm::Ed25519 => key(seed).sign(msg).0.to_vec(),
        SealAlgorithm::Sm2Sm3 => {
            let sig: sm2::dsa::Signature = sm2_key(seed).sign(msg);
            sig.to_bytes().to_vec()
        }
    }
}

/// Registers seal `es_id` of `owner` with one signer key.
pub fn register_seal(chain: &mut Chain, es_id: &str, owner: &str, seal_type: &str, algorithm: SealAlgorithm, seed: u8) {
    chain.ok(
        &dept_key(SEALS),
        Call::Seal(SealCall::Register {
            es_id: es_id.into(),
            owner: owner.into(),
            seal_type: seal_type.into(),
            name: format!("{owner} seal {seal_type}"),
            signer_keys: vec![signer_key(algorithm, seed)],
            valid_start_ms: 1_700_000_000_000,
            valid_end_ms: 1_900_000_000_000,
            seseal_hash: Hash::digest(es_id.as_bytes()),
            picture_hash: Hash::digest(b"picture"),
        }),
    );
}

/// A correctly signed `RecordSignature` call.
#[allow(clippy::too_many_arguments)]
pub fn signature_call(
    sig_id: &str,
    es_id: &str,
    algorithm: SealAlgorithm,
    seed: u8,
    doc: &[u8],
    purpose: SignaturePurpose,
    time_info_ms: u64,
) -> SealCall {
    let doc_hash = Hash::digest(doc);
    let msg = signature_message(CHAIN, es_id, &doc_hash, DocType::Ofd, purpose, "pages 1-2", time_info_ms);
    let sk = signer_key(algorithm, seed);
    SealCall::RecordSignature {
        sig_id: sig_id.into(),
        es_id: es_id.into(),
        signer_key: sk.public_key,
        doc_hash,
        doc_type: DocType::Ofd,
        purpose,
        property_info: "pages 1-2".into(),
        time_info_ms,
        tsa: None,
        signature: HexBytes(seal_sign(algorithm, seed, &msg)),
    }
}
