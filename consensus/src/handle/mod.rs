//! One file per input: each turns an [`crate::Input`] into state changes (and, for the
//! engine's own actions, outputs). A handler that refuses its input returns an
//! [`crate::InputError`] BEFORE changing anything. The `upon` rules then run in
//! `crate::rules`.

mod proposal;
mod propose;
mod start;
mod timeout;
mod vote;
