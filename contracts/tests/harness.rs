//! A tiny in-memory chain for contract tests: state as a `BTreeMap`, one block per call.

#![allow(dead_code, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use concordat_contracts::governance::{genesis_writes, Department, ValidatorEntry};
use concordat_contracts::ids::Uscc;
use concordat_contracts::state::WriteSet;
use concordat_contracts::{execute_block, BlockContext, BlockOutput, Call, Role, Transaction};
use concordat_contracts::{executor::next_nonce, SignedTransaction};
use concordat_primitives::SecretKey;

pub const CHAIN: &str = "concordat-test";

pub struct Chain {
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    pub height: u64,
}

pub fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
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
];

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
        };
        chain.apply(&writes);
        chain
    }

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

    pub fn ctx(&self) -> BlockContext {
        BlockContext {
            chain_id: CHAIN.into(),
            height: self.height + 1,
            time_ms: 1_780_000_000_000 + self.height * 1000,
        }
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
        out
    }

    /// Executes one transaction as a block.
    pub fn run(&mut self, signer: &SecretKey, call: Call) -> BlockOutput {
        let tx = self.tx(signer, call);
        self.block(&[tx])
    }
}
