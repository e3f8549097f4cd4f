//! Scaffolding every record kind uses, so that each kind's module holds only its own rules:
//! a typed [`Table`] (load an existing record, require a new id) and an [`OwnerIndex`] (the
//! ids of a party's records, oldest first, with a cap).

use std::marker::PhantomData;

use serde::{de::DeserializeOwned, Serialize};

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
}
