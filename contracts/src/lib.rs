//! Concordat contracts (pure): transactions, the native contract modules, and the deterministic
//! executor that runs a block over a read-only [`StateView`] and returns a write set and
//! receipts.
//!
//! Modules: [`governance`] (departments, roles, the validator set, proposals approved by more
//! than 2/3 of the departments) and [`party`] (the GB 32100 party registry). Identifier rules
//! live in [`ids`].
//!
//! # Invariants
//! - No IO, clock or randomness: the block context carries height and proposer time.
//! - Every call is checked against the signer's department roles before it touches state.
//! - A refused call changes nothing except the signer's nonce (which always advances once the
//!   envelope is valid, so a refused transaction can never be replayed).
//! - Output order is deterministic (`BTreeMap` only).

pub mod block;
pub mod error;
pub mod executor;
pub mod governance;
pub mod ids;
pub mod party;
pub mod roles;
pub mod state;
pub mod tx;

pub use error::{ExecError, ResultCode};
pub use executor::{execute_block, BlockContext, BlockOutput, Receipt};
pub use roles::Role;
pub use state::StateView;
pub use tx::{Call, SignedTransaction, Transaction};
