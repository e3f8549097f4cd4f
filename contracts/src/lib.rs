//! Concordat contracts (pure): transactions, the native contract modules, and the deterministic
//! executor that runs a block over a read-only [`StateView`] and returns a write set and
//! receipts.
//!
//! Modules: [`governance`] (departments, roles, the validator set, proposals approved by more
//! than 2/3 of the departments), [`party`] (the GB 32100 party registry, sites, enterprise
//! keys), [`policy`] (the versioned [M] parameters), [`licence`], [`commitment`], [`credit`]
//! (dishonesty records and bars, as far as licences need them), [`seal`] (electronic seals and
//! R9), [`recognition`] (mutual recognition, R11) and [`filing`] (R10). Identifier rules live
//! in [`ids`], civil dates in [`time`].
//!
//! # Invariants
//! - No IO, clock or randomness: the block context carries height and proposer time.
//! - Every call is checked against the signer's department roles before it touches state.
//! - A refused call changes nothing except the signer's nonce (which always advances once the
//!   envelope is valid, so a refused transaction can never be replayed).
//! - Output order is deterministic (`BTreeMap` only).

pub mod actor;
pub mod block;
pub mod codes;
pub mod commitment;
pub mod context;
pub mod credential;
pub mod credit;
pub mod customs;
pub mod due;
pub mod error;
pub mod executor;
pub mod filing;
pub mod governance;
pub mod ids;
pub mod inspection;
pub mod kinds;
pub mod licence;
pub mod logistics;
pub mod party;
pub mod policy;
pub mod procurement;
pub mod recognition;
pub mod record;
pub mod roles;
pub mod rules;
pub mod schema;
pub mod seal;
pub mod sharing;
pub mod state;
pub mod time;
pub mod trace;
pub mod tx;

pub use actor::Actor;
pub use context::BlockContext;
pub use error::{ExecError, ResultCode};
pub use executor::{execute_block, BlockOutput, Receipt};
pub use roles::Role;
pub use state::StateView;
pub use tx::{Call, SignedTransaction, Transaction};
