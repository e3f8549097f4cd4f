//! The shipment index behind the "Customs Clearance + Logistics" query (domain.md L): for each
//! entry number, bill of lading, air waybill and container number, the declarations and the
//! logistics events that name it, in the order they were recorded. A declaration enters the
//! index of its own number and of each transport document and container it declares; an
//! event enters the index of each number it links to. The index is state, so its answer comes
//! with a state proof, and its absence proves that the ledger knows nothing of a number.

use serde::{Deserialize, Serialize};

use crate::codes::TraceKind;
use crate::error::ExecError;
use crate::kinds::{Id, KindSpec};
use crate::state::Overlay;

/// Most declarations one number indexes (the latest; older ones stay found by their own
/// entry number).
pub const MAX_TRACE_ENTRIES: usize = 256;
/// Most events one number indexes (the latest; older ones stay found by their other links and
/// their ids).
pub const MAX_TRACE_EVENTS: usize = 1024;

/// What the ledger holds about one number.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceIndex {
    /// The declarations (entry ids) that name it, oldest first.
    pub entries: Vec<String>,
    /// The logistics events (event hash hex) that name it, oldest first.
    pub events: Vec<String>,
}

/// State keys.
pub mod keys {
    use crate::codes::TraceKind;

    /// The index of one number.
    pub fn trace(kind: &TraceKind, number: &str) -> Vec<u8> {
        [
            b"trace/".as_slice(),
            kind.as_str().as_bytes(),
            b"/",
            number.as_bytes(),
        ]
        .concat()
    }
}

/// The index of `number` (of `kind`).
pub fn get(state: &Overlay<'_>, kind: &TraceKind, number: &str) -> TraceIndex {
    state.get(&keys::trace(kind, number)).unwrap_or_default()
}

fn update(
    state: &mut Overlay<'_>,
    kind: &TraceKind,
    number: &str,
    f: impl FnOnce(&mut TraceIndex) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    let mut idx = get(state, kind, number);
    f(&mut idx)?;
    state.put(keys::trace(kind, number), &idx);
    Ok(())
}

/// Adds a declaration to the index of `number`.
pub fn add_entry(
    state: &mut Overlay<'_>,
    kind: &TraceKind,
    number: &str,
    entry_id: &str,
) -> Result<(), ExecError> {
    update(state, kind, number, |idx| {
        if idx.entries.iter().any(|e| e == entry_id) {
            return Ok(());
        }
        // A container or an air waybill is reused for years: its index keeps the latest
        // declarations and events, and a new one is never refused for the old ones.
        if idx.entries.len() >= MAX_TRACE_ENTRIES {
            idx.entries.remove(0);
        }
        idx.entries.push(entry_id.to_string());
        Ok(())
    })
}

/// Adds an event to the index of `number`.
pub fn add_event(
    state: &mut Overlay<'_>,
    kind: &TraceKind,
    number: &str,
    event: &str,
) -> Result<(), ExecError> {
    update(state, kind, number, |idx| {
        if idx.events.iter().any(|e| e == event) {
            return Ok(());
        }
        if idx.events.len() >= MAX_TRACE_EVENTS {
            idx.events.remove(0);
        }
        idx.events.push(event.to_string());
        Ok(())
    })
}

fn key_of_id(id: &str) -> Result<Vec<u8>, String> {
    let kind = TraceKind::detect(id).map_err(|e| e.message)?;
    Ok(keys::trace(&kind, id))
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "trace",
    "what names a shipment number (entry, bill of lading, air waybill, container)",
    "an entry number, bill of lading, air waybill or container number",
    "999-12345675",
    Id::Custom(key_of_id),
    crate::kinds::Decoder::of::<TraceIndex>(),
)];

/// Where a timeline item comes from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
// Named `TraceSource` for the record schema (credit has a `Source` too); neither JSON nor BCS
// carries an enum's name.
#[serde(rename = "TraceSource", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Source {
    /// A logistics (EPCIS) event (first among items of the same time and block: an arrival
    /// event comes before the arrival it confirms).
    Logistics,
    /// A step of a customs declaration.
    Customs,
}

/// One item of the "Customs Clearance + Logistics" timeline.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TimelineItem {
    /// Business time (the step's time, the event's `eventTime`).
    pub at: crate::time::Instant,
    /// Customs or logistics.
    pub source: Source,
    /// What happened: a declaration status or step (`RELEASED`, `ARRIVAL_CONFIRMED`), or the
    /// event's business step (`arriving`).
    pub what: String,
    /// The declaration, for a customs step.
    pub entry_id: Option<String>,
    /// The event id, for a logistics event.
    pub event_id: Option<String>,
    /// The event's type.
    pub event_type: Option<String>,
    /// The read point and its LOCODE, for an event.
    pub read_point: Option<String>,
    /// Its UN/LOCODE.
    pub locode: Option<String>,
    /// Basis, disposition or detail.
    pub detail: String,
    /// Who: the customs department, the declarant, the capturing operator.
    pub by: crate::ids::Uscc,
    /// The transaction (none for a step the system took by itself).
    pub tx: Option<concordat_primitives::Hash>,
    /// Its block height.
    pub height: u64,
    /// The event was later declared in error (EPCIS `errorDeclaration`).
    pub declared_in_error: bool,
    /// An error declaration: the event it declares in error.
    pub corrects: Option<String>,
}

/// A declaration's clearance summary on the timeline.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ClearanceSummary {
    /// The entry.
    pub entry_id: String,
    /// Its status.
    pub status: crate::customs::DeclarationStatus,
    /// Its mode.
    pub mode: crate::customs::DeclarationMode,
    /// The clearance time and SLA verdict, once released.
    pub clearance: Option<crate::customs::Clearance>,
    /// Its flags.
    pub flags: Vec<crate::customs::DeclarationFlag>,
}

/// The "Customs Clearance + Logistics" answer for one number: every declaration step and
/// every logistics event, in business-time order, with the clearance metrics.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// The number asked about.
    pub number: String,
    /// Its kind.
    pub kind: TraceKind,
    /// The items, oldest first.
    pub items: Vec<TimelineItem>,
    /// One summary per declaration.
    pub clearance: Vec<ClearanceSummary>,
}

/// Builds the timeline from the records (as read, or as verified by a client): the same
/// function for the node, the page and the CLI.
pub fn timeline(
    number: &str,
    kind: TraceKind,
    declarations: &[crate::customs::Declaration],
    events: &[crate::logistics::LogisticsEvent],
    corrections: &[crate::logistics::Correction],
) -> Timeline {
    let mut items = Vec::new();
    for d in declarations {
        for s in &d.steps {
            items.push(TimelineItem {
                at: s.at,
                source: Source::Customs,
                what: s.what.clone(),
                entry_id: Some(d.entry_id.clone()),
                event_id: None,
                event_type: None,
                read_point: None,
                locode: Some(d.port_locode.clone()),
                detail: s.basis.clone(),
                by: s.by.clone(),
                tx: s.tx,
                height: s.height,
                declared_in_error: false,
                corrects: None,
            });
        }
    }
    for e in events {
        let declared_in_error = corrections.iter().any(|c| c.event_id == e.event_id);
        items.push(TimelineItem {
            at: e.event_time,
            source: Source::Logistics,
            what: e.biz_step.clone().unwrap_or_else(|| e.event_type.clone()),
            entry_id: None,
            event_id: Some(e.event_id.clone()),
            event_type: Some(e.event_type.clone()),
            read_point: Some(e.read_point.clone()),
            locode: Some(e.locode.clone()),
            detail: e.disposition.clone().unwrap_or_default(),
            by: e.captured_by.clone(),
            tx: e.tx,
            height: e.height,
            declared_in_error,
            corrects: None,
        });
    }
    for c in corrections {
        items.push(TimelineItem {
            at: c.declaration.declaration_time,
            source: Source::Logistics,
            what: "ERROR_DECLARATION".into(),
            entry_id: None,
            event_id: Some(c.event_id.clone()),
            event_type: None,
            read_point: None,
            locode: None,
            detail: c.declaration.reason.clone().unwrap_or_default(),
            by: c.declared_by.clone(),
            tx: c.tx,
            height: c.height,
            declared_in_error: false,
            corrects: Some(c.event_id.clone()),
        });
    }
    items.sort_by_key(|i| (i.at, i.height, i.source));
    let clearance = declarations
        .iter()
        .map(|d| ClearanceSummary {
            entry_id: d.entry_id.clone(),
            status: d.status,
            mode: d.mode,
            clearance: d.clearance.clone(),
            flags: d.flags.clone(),
        })
        .collect();
    Timeline {
        number: number.to_string(),
        kind,
        items,
        clearance,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_full_index_keeps_the_latest_and_refuses_nothing() {
        let base = BTreeMap::new();
        let mut s = Overlay::new(&base);
        let k = TraceKind::Container;
        for i in 0..(MAX_TRACE_EVENTS + 5) {
            add_event(&mut s, &k, "CSQU3054383", &format!("{i:064x}")).expect("indexed");
        }
        let idx = get(&s, &k, "CSQU3054383");
        assert_eq!(idx.events.len(), MAX_TRACE_EVENTS);
        assert_eq!(idx.events[0], format!("{:064x}", 5));
        assert_eq!(
            idx.events.last().expect("last"),
            &format!("{:064x}", MAX_TRACE_EVENTS + 4)
        );
    }
}
