//! Scaffolding every record kind uses, so that each kind's module holds only its own rules:
//! a typed [`Table`] (load an existing record, require a new id), an [`OwnerIndex`] (the
//! ids of a party's records, oldest first, with a cap), and for every stateful kind one
//! [`transition`] function that checks the kind's transition table and appends a uniform,
//! time-stamped [`Change`] to the record's history. "Status at time T" is read from that
//! history ([`status_at`]), the same way for every kind: by the contracts (R9 reads a seal's
//! status at signing time), by `concordat verify --at` and by the page.

use std::fmt::Debug;
use std::marker::PhantomData;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::context::BlockContext;
use crate::error::{ExecError, ResultCode};
use crate::ids::{validate_id, Uscc};
use crate::state::Overlay;

/// The records of one kind, keyed by a record id (1 to `max_id` characters of
/// `A-Z a-z 0-9 . _ : -`).
pub struct Table<T> {
    /// What one record is called in messages (`"licence"`).
    pub what: &'static str,
    /// The id's field name in messages (`"licence_id"`).
    pub id_field: &'static str,
    /// Longest id.
    pub max_id: usize,
    /// The state key of an id.
    pub key: fn(&str) -> Vec<u8>,
    record: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Table<T> {
    /// A table.
    pub const fn new(
        what: &'static str,
        id_field: &'static str,
        max_id: usize,
        key: fn(&str) -> Vec<u8>,
    ) -> Table<T> {
        Table {
            what,
            id_field,
            max_id,
            key,
            record: PhantomData,
        }
    }

    /// Checks the id's form (`BAD_IDENTIFIER`).
    pub fn check_id(&self, id: &str) -> Result<(), ExecError> {
        validate_id(self.id_field, id, self.max_id)
    }

    /// The record `id`, or `NOT_FOUND`.
    pub fn load(&self, state: &Overlay<'_>, id: &str) -> Result<T, ExecError> {
        self.check_id(id)?;
        state.get(&(self.key)(id)).ok_or_else(|| {
            ExecError::new(
                ResultCode::NotFound,
                format!("{} {id} does not exist", self.what),
            )
        })
    }

    /// The record `id`, if present (the id must be well formed).
    pub fn find(&self, state: &Overlay<'_>, id: &str) -> Result<Option<T>, ExecError> {
        self.check_id(id)?;
        Ok(state.get(&(self.key)(id)))
    }

    /// `ALREADY_EXISTS` unless `id` is free.
    pub fn require_new(&self, state: &Overlay<'_>, id: &str) -> Result<(), ExecError> {
        self.check_id(id)?;
        if state.get_raw(&(self.key)(id)).is_some() {
            return Err(ExecError::new(
                ResultCode::AlreadyExists,
                format!("{} {id} already exists", self.what),
            ));
        }
        Ok(())
    }

    /// Writes the record `id`.
    pub fn put(&self, state: &mut Overlay<'_>, id: &str, record: &T) {
        state.put((self.key)(id), record);
    }
}

/// The ids of one party's records of a kind, oldest first, at most `cap` of them.
pub struct OwnerIndex {
    /// What the records are called in messages (`"licences"`).
    pub what: &'static str,
    /// Most ids per owner.
    pub cap: usize,
    /// The state key of an owner's index.
    pub key: fn(&str) -> Vec<u8>,
}

impl OwnerIndex {
    /// The owner's ids, oldest first.
    pub fn ids(&self, state: &Overlay<'_>, owner: &Uscc) -> Vec<String> {
        state.get(&(self.key)(owner.as_str())).unwrap_or_default()
    }

    /// Appends `id` to the owner's index; `INVALID_ARGUMENT` when the index is full.
    pub fn add(&self, state: &mut Overlay<'_>, owner: &Uscc, id: &str) -> Result<(), ExecError> {
        let mut ids = self.ids(state, owner);
        if ids.len() >= self.cap {
            return Err(ExecError::new(
                ResultCode::InvalidArgument,
                format!("{owner} already has {} {}", self.cap, self.what),
            ));
        }
        ids.push(id.to_string());
        state.put((self.key)(owner.as_str()), &ids);
        Ok(())
    }
}

/// Most entries in one record's history. When a record reaches it, only a move to a terminal
/// status is still taken (so a record can always be closed), and that move is the last entry.
pub const MAX_HISTORY: usize = 256;

/// One status change of a record: when (block time), to which status, by whom, on what basis.
/// Every stateful kind keeps a `history: Vec<Change<Status>>`, oldest first, starting with the
/// record's creation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Change<S> {
    /// Block time (ms since the Unix epoch).
    pub at_ms: u64,
    /// The status from this change on.
    pub status: S,
    /// The department or party that made the change.
    pub by: Uscc,
    /// Basis (decision document number or reason; may be empty).
    pub basis: String,
}

impl<S> Change<S> {
    /// The change made by the current transaction.
    pub fn now(ctx: &BlockContext, status: S, by: &Uscc, basis: &str) -> Change<S> {
        Change {
            at_ms: ctx.time_ms,
            status,
            by: by.clone(),
            basis: basis.to_string(),
        }
    }
}

/// A record kind with a status, a transition table and a change history.
pub trait Stateful {
    /// Its status type.
    type Status: Copy + Eq + Debug + Serialize + 'static;
    /// Every `(from, to)` move some call may make (domain.md's table for the kind).
    const TRANSITIONS: &'static [(Self::Status, Self::Status)];
    /// The record as named in messages (`"licence L-1"`).
    fn name(&self) -> String;
    /// Its status.
    fn status(&self) -> Self::Status;
    /// Sets its status (called only by [`transition`]).
    fn set_status(&mut self, to: Self::Status);
    /// Its history, oldest first.
    fn history(&self) -> &[Change<Self::Status>];
    /// Its history, to append to (called only by [`transition`]).
    fn history_mut(&mut self) -> &mut Vec<Change<Self::Status>>;
    /// How a status reads in messages (the licence adds its e-licence code).
    fn describe(status: Self::Status) -> String {
        format!("{status:?}")
    }
}

/// Implements [`Stateful`] for a record type with `status` and `history` fields:
/// `stateful!(Seal, SealStatus, "seal", es_id, [(Active, Suspended), …]);` names the record
/// in messages as `"seal <es_id>"`; an optional last argument is the `describe` function.
macro_rules! stateful {
    ($ty:ty, $status:ident, $what:literal, $id:ident,
     [$(($from:ident, $to:ident)),* $(,)?] $(, $describe:expr)?) => {
        impl $crate::record::Stateful for $ty {
            type Status = $status;
            const TRANSITIONS: &'static [($status, $status)] = {
                #[allow(unused_imports)]
                use $status::*;
                &[$(($from, $to)),*]
            };
            fn name(&self) -> String {
                format!(concat!($what, " {}"), self.$id)
            }
            fn status(&self) -> $status {
                self.status
            }
            fn set_status(&mut self, to: $status) {
                self.status = to;
            }
            fn history(&self) -> &[$crate::record::Change<$status>] {
                &self.history
            }
            fn history_mut(&mut self) -> &mut Vec<$crate::record::Change<$status>> {
                &mut self.history
            }
            $(fn describe(status: $status) -> String {
                ($describe)(status)
            })?
        }
    };
}
pub(crate) use stateful;

/// True iff the kind's table allows `from` → `to`.
pub fn allowed<R: Stateful>(from: R::Status, to: R::Status) -> bool {
    R::TRANSITIONS.contains(&(from, to))
}

/// True iff no move leaves `status`.
pub fn is_terminal<R: Stateful>(status: R::Status) -> bool {
    !R::TRANSITIONS.iter().any(|(from, _)| *from == status)
}

/// Moves `record` to `to` if the kind's table allows it from its status
/// (`INVALID_TRANSITION` naming both otherwise), and appends the change to its history. Once
/// the history holds [`MAX_HISTORY`] − 1 entries only a terminal status is taken
/// (`INVALID_ARGUMENT`). The caller stores the record.
pub fn transition<R: Stateful>(
    record: &mut R,
    to: R::Status,
    ctx: &BlockContext,
    by: &Uscc,
    basis: &str,
) -> Result<(), ExecError> {
    let from = record.status();
    if !allowed::<R>(from, to) {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "{} is {}; it cannot become {}",
                record.name(),
                R::describe(from),
                R::describe(to)
            ),
        ));
    }
    if record.history().len() >= MAX_HISTORY - 1 && !is_terminal::<R>(to) {
        return Err(ExecError::new(
            ResultCode::InvalidArgument,
            format!(
                "{} has {MAX_HISTORY} status changes; only a move to a final status remains",
                record.name()
            ),
        ));
    }
    record.set_status(to);
    record.history_mut().push(Change::now(ctx, to, by, basis));
    Ok(())
}

/// The status in force at `t_ms` by `history` (the last change at or before it), or `None`
/// before the record's first entry.
pub fn status_at<S: Copy>(history: &[Change<S>], t_ms: u64) -> Option<S> {
    history
        .iter()
        .take_while(|c| c.at_ms <= t_ms)
        .last()
        .map(|c| c.status)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn key(id: &str) -> Vec<u8> {
        [b"t/".as_slice(), id.as_bytes()].concat()
    }
    const T: Table<u64> = Table::new("thing", "thing_id", 8, key);
    const IDX: OwnerIndex = OwnerIndex {
        what: "things",
        cap: 2,
        key,
    };

    #[test]
    fn a_table_loads_refuses_duplicates_and_checks_ids() {
        let base = BTreeMap::new();
        let mut s = Overlay::new(&base);
        assert_eq!(
            T.load(&s, "a").map_err(|e| e.code),
            Err(ResultCode::NotFound)
        );
        T.require_new(&s, "a").expect("free");
        T.put(&mut s, "a", &7);
        assert_eq!(T.load(&s, "a").expect("present"), 7);
        assert_eq!(
            T.require_new(&s, "a").map_err(|e| e.code),
            Err(ResultCode::AlreadyExists)
        );
        for bad in ["", "a b", "toolong-id"] {
            assert_eq!(
                T.load(&s, bad).map_err(|e| e.code),
                Err(ResultCode::BadIdentifier),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn an_owner_index_keeps_order_and_its_cap() {
        let base = BTreeMap::new();
        let mut s = Overlay::new(&base);
        let owner = Uscc::parse("91110105MA01R7K442").expect("uscc");
        IDX.add(&mut s, &owner, "x").expect("1");
        IDX.add(&mut s, &owner, "y").expect("2");
        let full = IDX.add(&mut s, &owner, "z").expect_err("cap");
        assert_eq!(full.code, ResultCode::InvalidArgument);
        assert_eq!(IDX.ids(&s, &owner), vec!["x", "y"]);
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    enum Light {
        On,
        Off,
        Broken,
    }
    struct Lamp(Light, Vec<Change<Light>>);
    impl Stateful for Lamp {
        type Status = Light;
        const TRANSITIONS: &'static [(Light, Light)] = &[
            (Light::On, Light::Off),
            (Light::Off, Light::On),
            (Light::On, Light::Broken),
            (Light::Off, Light::Broken),
        ];
        fn name(&self) -> String {
            "lamp".into()
        }
        fn status(&self) -> Light {
            self.0
        }
        fn set_status(&mut self, to: Light) {
            self.0 = to;
        }
        fn history(&self) -> &[Change<Light>] {
            &self.1
        }
        fn history_mut(&mut self) -> &mut Vec<Change<Light>> {
            &mut self.1
        }
    }

    fn ctx(t: u64) -> BlockContext {
        BlockContext::new("c", t, t)
    }

    #[test]
    fn transitions_follow_the_table_append_the_history_and_keep_the_cap() {
        let by = Uscc::parse("91110105MA01R7K442").expect("uscc");
        let mut lamp = Lamp(
            Light::On,
            vec![Change::now(&ctx(1), Light::On, &by, "made")],
        );
        transition(&mut lamp, Light::Off, &ctx(5), &by, "night").expect("on -> off");
        let refused = transition(&mut lamp, Light::Off, &ctx(6), &by, "").expect_err("off -> off");
        assert_eq!(refused.code, ResultCode::InvalidTransition);
        assert_eq!(refused.message, "lamp is Off; it cannot become Off");
        assert_eq!(lamp.1.len(), 2, "a refused move appends nothing");
        assert_eq!(status_at(&lamp.1, 0), None);
        assert_eq!(status_at(&lamp.1, 4), Some(Light::On));
        assert_eq!(status_at(&lamp.1, 5), Some(Light::Off));
        assert!(is_terminal::<Lamp>(Light::Broken) && !is_terminal::<Lamp>(Light::Off));
        while lamp.1.len() < MAX_HISTORY - 1 {
            let to = if lamp.0 == Light::On {
                Light::Off
            } else {
                Light::On
            };
            transition(&mut lamp, to, &ctx(7), &by, "").expect("toggle");
        }
        let to = if lamp.0 == Light::On {
            Light::Off
        } else {
            Light::On
        };
        let full = transition(&mut lamp, to, &ctx(8), &by, "").expect_err("full");
        assert_eq!(full.code, ResultCode::InvalidArgument);
        transition(&mut lamp, Light::Broken, &ctx(9), &by, "").expect("a final move is taken");
        assert_eq!(lamp.1.len(), MAX_HISTORY);
        assert!(transition(&mut lamp, Light::On, &ctx(10), &by, "").is_err());
    }
}
