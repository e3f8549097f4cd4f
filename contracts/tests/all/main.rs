//! The contracts' tests, one binary: the in-memory chain and fixtures come from
//! `concordat-testkit`.

mod authority_prop;
mod credit;
mod credit_walk;
mod customs;
mod inspection;
mod kinds;
mod licence_transitions;
mod party_governance;
mod recognition;
mod roles_prop;
mod scenario1;
mod seal_r9;
mod sharing;
mod transitions;
mod uscc;
