//! A tiny in-memory chain for contract tests: state as a `BTreeMap`, one block per call, run
//! by the real executor.

use std::collections::{BTreeMap, BTreeSet};

pub use concordat_contracts::governance::Department;
use concordat_contracts::governance::{genesis_writes, ValidatorEntry};
use concordat_contracts::ids::Uscc;
use concordat_contracts::state::WriteSet;
use concordat_contracts::{execute_block, BlockContext, BlockOutput, Call, Role, Transaction};
use concordat_contracts::{executor::next_nonce, SignedTransaction};
use concordat_primitives::SecretKey;

pub use crate::key;

/// The chain id of every in-memory chain.
pub const CHAIN: &str = "concordat-test";

/// The chain: its state and the next block's height and time.
#[derive(Clone)]
pub struct Chain {
    /// The state, key to stored bytes.
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Height of the last block.
    pub height: u64,
    /// Block time of the next block (ms); each block advances it by one second.
    pub time_ms: u64,
}

/// Departments with synthetic USCCs from domain.md; member key of department i is key(i + 1).
pub const DEPT_USCCS: &[&str] = &[
    "11110000MB01A7C368",
    "11120000MB02T9J49M",
    "11110000MB03K8E2XU",
    "11130000MB08HB2T02",
    "11110000MB04P6Q10W",
    "11110000MB05H3L77G",
    "11120000MB09TJ4C2U",
    "11110000MB12CT5A2W",
    "11120000MB13TC7K4M",
    "91110115MA04DXCT11",
    "91120116MA07TJPT22",
    "91110102MA00BK8R3J",
    "91110102MA00BK9T6J",
    "91110105MA01PEKC3A",
];

/// Department `i` of [`DEPT_USCCS`] in region 110000 with `roles` and member key `key(i + 1)`.
pub fn department(i: usize, roles: &[Role]) -> Department {
    Department {
        uscc: Uscc::parse(DEPT_USCCS[i]).expect("fixture"),
        name: format!("Department {i}"),
        region: "110000".into(),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        member_keys: [key(i as u8 + 1).public_key()].into_iter().collect(),
    }
}

impl Chain {
    /// A chain whose genesis holds `departments` and one validator (key 100) of the first.
    pub fn new(departments: &[Department]) -> Chain {
        let validators = vec![ValidatorEntry {
            key: key(100).public_key(),
            power: 10,
            department: departments[0].uscc.clone(),
        }];
        let writes = genesis_writes(departments, &validators).expect("valid genesis");
        let mut chain = Chain {
            state: BTreeMap::new(),
            height: 0,
            time_ms: 1_780_000_000_000,
        };
        chain.apply(&writes);
        chain
    }

    /// Applies a block's writes.
    pub fn apply(&mut self, writes: &WriteSet) {
        for (k, v) in writes {
            match v {
                Some(v) => {
                    self.state.insert(k.clone(), v.clone());
                }
                None => {
                    self.state.remove(k);
                }
            }
        }
    }

    /// The context of the next block.
    pub fn ctx(&self) -> BlockContext {
        BlockContext::new(CHAIN, self.height + 1, self.time_ms)
    }

    /// A signed transaction from `signer` with its next nonce.
    pub fn tx(&self, signer: &SecretKey, call: Call) -> SignedTransaction {
        Transaction {
            chain_id: CHAIN.into(),
            signer: signer.public_key(),
            nonce: next_nonce(&self.state, &signer.public_key()),
            expiry_height: self.height + 100,
            call,
        }
        .sign(signer)
    }

    /// Executes one block and applies it.
    pub fn block(&mut self, txs: &[SignedTransaction]) -> BlockOutput {
        let ctx = self.ctx();
        let out = execute_block(&self.state, &ctx, txs);
        self.apply(&out.writes);
        self.height += 1;
        self.time_ms += 1000;
        out
    }

    /// Sets the next block's time to `YYYY-MM-DDTHH:MM` in China Standard Time.
    pub fn at(&mut self, when: &str) {
        let (date, hm) = when.split_once('T').expect("YYYY-MM-DDTHH:MM");
        let date = concordat_contracts::time::Date::parse(date).expect("date");
        let (h, m) = hm.split_once(':').expect("HH:MM");
        let (h, m): (u64, u64) = (h.parse().expect("hour"), m.parse().expect("minute"));
        self.time_ms = date.start_ms() + (h * 60 + m) * 60_000;
    }

    /// Reads a record.
    pub fn get<T: serde::Serialize + serde::de::DeserializeOwned>(&self, key: &[u8]) -> Option<T> {
        self.state
            .get(key)
            .map(|b| concordat_primitives::encoding::from_bytes(b).expect("decodes"))
    }

    /// Runs a call that must succeed.
    pub fn ok(&mut self, signer: &SecretKey, call: Call) -> BlockOutput {
        let out = self.run(signer, call.clone());
        assert_eq!(
            out.receipts[0].code,
            concordat_contracts::ResultCode::Ok,
            "{call:?} failed: {}",
            out.receipts[0].message
        );
        out
    }

    /// Runs a call that must be refused with `code`, and checks that it changed nothing but
    /// the signer's nonce. Returns the message.
    pub fn refused(
        &mut self,
        signer: &SecretKey,
        call: Call,
        code: concordat_contracts::ResultCode,
    ) -> String {
        let out = self.run(signer, call.clone());
        assert_eq!(
            out.receipts[0].code, code,
            "{call:?}: {}",
            out.receipts[0].message
        );
        let nonce = concordat_contracts::state::keys::nonce(&signer.public_key());
        assert!(
            out.writes.keys().all(|k| *k == nonce),
            "refused {call:?} wrote more than the nonce"
        );
        out.receipts[0].message.clone()
    }

    /// Executes one transaction as a block.
    pub fn run(&mut self, signer: &SecretKey, call: Call) -> BlockOutput {
        let tx = self.tx(signer, call);
        self.block(&[tx])
    }
}
