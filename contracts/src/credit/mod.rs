//! Credit (record kinds E and F of domain.md, rules R3, R6 and R16): dishonesty records with
//! their publicity windows, obligations, repair, objections and automatic expiry; red and
//! black lists with typed restrictions, removal and automatic removal; the restriction index
//! that makes "X is not barred" provable; credit evaluations by scheme (kind D) with
//! objections and supersession; re-application bars (R4).

mod bars;
mod calls;
mod dishonesty;
mod evaluation;
mod lists;
pub mod restrictions;

pub use bars::*;
pub use calls::*;
pub use dishonesty::*;
pub use evaluation::{
    current as current_evaluation, CreditEvaluation, EvaluationStatus, Scheme, EVALUATIONS,
    MAX_EVALUATION_ID_BYTES,
};
pub use lists::{
    add as add_entry, expire as expire_entry, refresh_red, ListEntry, ListStatus, ListType,
    RemovalRequest, BY_PARTY as LISTS_BY_PARTY, ENTRIES, MAX_BASIS_REFS, MAX_ENTRIES_PER_PARTY,
    MAX_ENTRY_ID_BYTES,
};
pub use restrictions::{RestrictionCode, Source};

use crate::kinds::{Id, KindSpec};
use crate::state::keys;

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "dishonesty",
        "dishonesty record",
        "a record id",
        "FC-C-2026-000123",
        Id::Record(keys::dishonesty),
        crate::kinds::Decoder::versioned::<DishonestyRecord>(),
    )
    .stateful::<DishonestyRecord>(),
    KindSpec::new(
        "reapply_bar",
        "re-application bar",
        "USCC:TYPE_CODE",
        "91110105MA01R7K442:FOOD_BUSINESS",
        Id::Custom(|id| match (id.get(..18), id.get(18..19), id.get(19..)) {
            (Some(uscc), Some(":"), Some(t)) if !t.is_empty() => Ok(keys::reapply_bar(uscc, t)),
            _ => Err("a reapply_bar id is USCC:TYPE_CODE".into()),
        }),
        crate::kinds::Decoder::of::<ReapplyBar>(),
    ),
    KindSpec::new(
        "party_records",
        "a party's dishonesty records",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::dishonesty_index),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
    KindSpec::new(
        "list_entry",
        "red or black list entry",
        "an entry id",
        "IPR-2026-0001",
        Id::Record(lists::keys::entry),
        crate::kinds::Decoder::versioned::<ListEntry>(),
    )
    .stateful::<ListEntry>(),
    KindSpec::new(
        "party_list_entries",
        "a party's list entries",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(lists::keys::entries_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
    KindSpec::new(
        "evaluation",
        "credit evaluation",
        "an evaluation id",
        "TAX-2025-91110105MA01R7K442",
        Id::Record(evaluation::keys::evaluation),
        crate::kinds::Decoder::versioned::<CreditEvaluation>(),
    )
    .stateful::<CreditEvaluation>(),
    KindSpec::new(
        "party_evaluation",
        "a party's evaluation in force for a scheme",
        "USCC:SCHEME",
        "91110105MA01R7K442:TAX",
        Id::Custom(evaluation::current_key_of_id),
        crate::kinds::Decoder::of::<String>(),
    ),
    KindSpec::new(
        "restriction",
        "the records restricting a party (absent: none)",
        "USCC:RESTRICTION",
        "91110105MA01R7K442:NO_GOV_PROCUREMENT",
        Id::Custom(restrictions::key_of_id),
        crate::kinds::Decoder::of::<Vec<Source>>(),
    ),
];
