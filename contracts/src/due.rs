//! Things that happen by themselves on a date: a dishonesty record's publicity ends at its
//! maximum window, a list entry is removed when its window ends (domain.md E, F: "system"
//! transitions). A module schedules a record on a date; at the start of every block the
//! executor runs what fell due on or before the block's date (China Standard Time), before the
//! block's transactions, at most [`MAX_DUE_PER_BLOCK`] items a block (the rest in the next
//! blocks: the rules read the dates themselves, so a late run changes no decision, only when
//! the record's status catches up).
//!
//! The queue lives in the state (so every validator runs the same items in the same order):
//! `due/index` maps each date to the number of items still waiting on it; the items of a
//! date sit in chunks of [`CHUNK`] under `due/<date>/<n>`, taken last first. A run that finds
//! the record no longer waiting (withdrawn, removed early) does nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::context::BlockContext;
use crate::error::{invalid, ExecError};
use crate::state::Overlay;
use crate::time::Date;

/// Items per chunk.
pub const CHUNK: u64 = 128;
/// Most items run per block.
pub const MAX_DUE_PER_BLOCK: usize = 64;
/// Most distinct dates waiting at once (ten years of days).
pub const MAX_DUE_DATES: usize = 3660;

/// What falls due.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Event {
    /// A dishonesty record's publicity reaches its maximum window.
    DishonestyExpiry,
    /// A list entry's window ends.
    ListRemoval,
    /// An inspection result's publication deadline has passed (R8).
    PublicationOverdue,
    /// A TWO_STEP complete declaration's due date has passed (R13).
    CompleteOverdue,
    /// A data-sharing authorisation's validity has ended.
    AuthorisationExpiry,
}

/// One scheduled item.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What happens.
    pub event: Event,
    /// The record it happens to.
    pub id: String,
}

mod keys {
    use crate::time::Date;

    pub const INDEX: &[u8] = b"due/index";

    pub fn chunk(date: Date, n: u64) -> Vec<u8> {
        [
            b"due/".as_slice(),
            date.to_string().as_bytes(),
            b"/",
            &n.to_be_bytes(),
        ]
        .concat()
    }
}

fn index(state: &Overlay<'_>) -> BTreeMap<Date, u64> {
    state.get(keys::INDEX).unwrap_or_default()
}

/// Schedules `event` for record `id` on `date`.
pub fn schedule(
    state: &mut Overlay<'_>,
    date: Date,
    event: Event,
    id: &str,
) -> Result<(), ExecError> {
    let mut idx = index(state);
    if !idx.contains_key(&date) && idx.len() >= MAX_DUE_DATES {
        return Err(invalid(format!(
            "{MAX_DUE_DATES} dates already have scheduled events; {date} cannot be added"
        )));
    }
    let n = idx.entry(date).or_insert(0);
    let key = keys::chunk(date, *n / CHUNK);
    let mut items: Vec<Item> = state.get(&key).unwrap_or_default();
    items.push(Item {
        event,
        id: id.to_string(),
    });
    *n += 1;
    state.put(key, &items);
    state.put(keys::INDEX.to_vec(), &idx);
    Ok(())
}

/// Takes up to [`MAX_DUE_PER_BLOCK`] items due on or before the block's date, oldest date
/// first, removing them from the queue.
pub fn take(state: &mut Overlay<'_>, ctx: &BlockContext) -> Vec<(Date, Item)> {
    let today = Date::of_ms(ctx.time_ms);
    let mut idx = index(state);
    let mut taken = Vec::new();
    while taken.len() < MAX_DUE_PER_BLOCK {
        let Some((&date, &n)) = idx.first_key_value() else {
            break;
        };
        if date > today {
            break;
        }
        let key = keys::chunk(date, (n - 1) / CHUNK);
        let mut items: Vec<Item> = state.get(&key).unwrap_or_default();
        if let Some(item) = items.pop() {
            taken.push((date, item));
        }
        if items.is_empty() {
            state.delete(key);
        } else {
            state.put(key, &items);
        }
        if n <= 1 {
            idx.remove(&date);
        } else {
            idx.insert(date, n - 1);
        }
    }
    if !taken.is_empty() {
        if idx.is_empty() {
            state.delete(keys::INDEX.to_vec());
        } else {
            state.put(keys::INDEX.to_vec(), &idx);
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap as Map;

    use super::*;

    fn ctx(day: &str) -> BlockContext {
        BlockContext::new("c", 1, Date::parse(day).expect("date").start_ms())
    }

    #[test]
    fn items_run_on_their_date_in_bounded_batches_and_leave_nothing_behind() {
        let base = Map::new();
        let mut s = Overlay::new(&base);
        let d1 = Date::parse("2026-09-25").expect("d");
        let d2 = Date::parse("2027-06-25").expect("d");
        for i in 0..(MAX_DUE_PER_BLOCK as u64 + CHUNK + 3) {
            schedule(&mut s, d1, Event::DishonestyExpiry, &format!("R{i}")).expect("schedule");
        }
        schedule(&mut s, d2, Event::ListRemoval, "L1").expect("schedule");
        assert!(
            take(&mut s, &ctx("2026-09-24")).is_empty(),
            "nothing before its date"
        );
        let mut seen = Vec::new();
        loop {
            let batch = take(&mut s, &ctx("2026-09-26"));
            assert!(batch.len() <= MAX_DUE_PER_BLOCK);
            if batch.is_empty() {
                break;
            }
            assert!(batch.iter().all(|(d, _)| *d == d1), "a later date waits");
            seen.extend(batch.into_iter().map(|(_, i)| i.id));
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), MAX_DUE_PER_BLOCK + CHUNK as usize + 3);
        let last = take(&mut s, &ctx("2027-06-25"));
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].1.event, Event::ListRemoval);
        let left: Vec<_> = s
            .into_writes()
            .into_iter()
            .filter(|(k, v)| k.starts_with(b"due/") && v.is_some())
            .collect();
        assert!(left.is_empty(), "the queue is empty: {left:?}");
    }
}
