//! Integration tests of the consensus crate (one test binary).
//!
//! - `steps`: table-driven step tests of the paper's rules (input, expected outputs, expected
//!   step/round/lock after each input).
//! - `verification`: what incoming messages are refused, deduplicated or recorded as evidence.
//! - `safety`: the signing rules, including a simulated crash-restart.
//! - `proposer`: the weighted proposer schedule.
//! - (the simulation of whole clusters runs the node's real driver: `tests/tests/sim.rs`.)
//! - `votekeeper`: the keeper alone.
//! - `fork`: with 2 of 4 validators equivocating (f+1), honest validators CAN decide
//!   different blocks (the control that shows the other tests could fail).

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;
mod fork;
mod proposer;
mod safety;
mod steps;
mod verification;
mod votekeeper;
