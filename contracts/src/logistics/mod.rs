//! Logistics events (record kind L of domain.md) in the GS1 EPCIS 2.0 event model, and the
//! read points they are captured at.
//!
//! # Read points
//! An operator registers each read point (a GS1 SGLN) with its UN/LOCODE and its function: a
//! PORT_OPERATOR registers port read points, a CARGO_TERMINAL airport ones, CUSTOMS any; the
//! LOCODE must have that function (R1: "CNTSN" is an airport, never a port). A CUSTOMS
//! department covering the location designates a read point customs-controlled (海关监管作业场所).
//! `ACTIVE → RETIRED` by the operator.
//!
//! # Capture
//! `Capture` takes an EPCIS 2.0 JSON-LD `EPCISDocument` as port and terminal systems produce
//! it. Each event is checked and recorded, or the whole document is refused:
//! - its type is one of the five EPCIS event types; `eventTime` is RFC 3339 and not ahead of
//!   the block time by more than five minutes; `eventTimeZoneOffset` is `±hh:mm`;
//! - its `readPoint` is a registered, ACTIVE read point whose operator is the signer: only
//!   the registered operator captures there;
//! - `bizStep` and `disposition` are CBV 2.0 values (bare, `urn:epcglobal:cbv:…` or
//!   `https://ref.gs1.org/cbv/…`) or extensions under a prefix the document declares;
//! - containers (`urn:epc:id:bic:<ISO 6346>`), air waybills (`urn:cn:awb:<PPP-SSSSSSSC>`),
//!   bills of lading (`urn:cn:bol:<number>`) and declarations (`urn:cn:customs:dec:<18
//!   digits>`) it names are checked (R1) and become its links;
//! - its id is the EPCIS event hash ID (`ni:///sha-256;…?ver=CBV2.0`, CBV 2.0 §8.9), so the
//!   same event is never recorded twice.
//!
//! Events are never edited. A correction is an event carrying `errorDeclaration` that repeats
//! an event of the same capturer unchanged (the event hash leaves `errorDeclaration` out, so
//! it has the same hash ID) and names it in its `eventID`: it is kept as the event's
//! correction record, once, and the original stays as it was.
//!
//! An arrival (`bizStep` arriving or unloading) at a customs-controlled read point confirms the
//! arrival (运抵) of the declarations it links to (directly, or through their air waybill,
//! bill of lading or container) whose port is the read point's LOCODE.

pub mod epcis;
pub mod epcis_hash;

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::codes::{self, LocationFunction, TraceKind};
use crate::context::BlockContext;
use crate::customs::{self, DECLARATIONS};
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change, Table};
use crate::roles::Role;
use crate::state::Overlay;
use crate::time::Instant;
use crate::trace;

pub use epcis::{EventLink, ParsedEvent};

/// Most events in one captured document.
pub const MAX_EVENTS_PER_CAPTURE: usize = 64;
/// Largest captured document (bytes).
pub const MAX_DOCUMENT_BYTES: usize = 48 * 1024;

/// Read point status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReadPointStatus {
    /// Events may be captured there.
    Active,
    /// No longer (final).
    Retired,
}

/// A registered read point.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReadPoint {
    /// The SGLN (`urn:epc:id:sgln:6901234.00001.0`).
    pub read_point: String,
    /// Its name.
    pub name: String,
    /// UN/LOCODE.
    pub locode: String,
    /// Its function (matches the LOCODE's).
    pub function: LocationFunction,
    /// The department that captures there.
    pub operator: Uscc,
    /// Designated customs-controlled by CUSTOMS (arrivals there confirm 运抵).
    pub customs_controlled: bool,
    /// Status.
    pub status: ReadPointStatus,
    /// Status changes.
    pub history: Vec<Change<ReadPointStatus>>,
}

stateful!(
    ReadPoint,
    ReadPointStatus,
    "read point",
    read_point,
    [(Active, Retired)]
);

impl Versioned for ReadPoint {
    const APPENDED: &'static [&'static str] = &[];
}

/// A correction of an event (EPCIS `errorDeclaration`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorDeclaration {
    /// The event declared in error (its hash ID).
    pub declares: String,
    /// `declarationTime`.
    pub declaration_time: Instant,
    /// `reason`, if given.
    pub reason: Option<String>,
    /// `correctiveEventIDs`.
    pub corrective_event_ids: Vec<String>,
}

/// A captured logistics event.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LogisticsEvent {
    /// The EPCIS event hash ID (`ni:///sha-256;<hex>?ver=CBV2.0`).
    pub event_id: String,
    /// ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent.
    pub event_type: String,
    /// `eventTime`.
    pub event_time: Instant,
    /// `eventTimeZoneOffset`.
    pub event_time_zone_offset: String,
    /// `bizStep` (a CBV word, or an extension as written).
    pub biz_step: Option<String>,
    /// `disposition` (likewise).
    pub disposition: Option<String>,
    /// The read point (SGLN).
    pub read_point: String,
    /// Its LOCODE.
    pub locode: String,
    /// `bizLocation`.
    pub biz_location: Option<String>,
    /// Every EPC it names.
    pub epcs: Vec<String>,
    /// The shipment numbers it names.
    pub links: Vec<EventLink>,
    /// The declarations whose arrival it confirmed.
    pub arrival_for: Vec<String>,
    /// The department that captured it.
    pub captured_by: Uscc,
    /// The ledger's record time (the block time).
    pub record_time: Instant,
    /// The block height.
    pub height: u64,
    /// The capturing transaction.
    pub tx: Option<Hash>,
    /// The event as received (JSON).
    pub event: String,
    /// The namespace prefixes the document declared (`prefix → IRI`), for its extensions.
    pub namespaces: Vec<(String, String)>,
}

impl Versioned for LogisticsEvent {
    const APPENDED: &'static [&'static str] = &[];
}

/// An event's correction record: the error declaration that declared it in error. The
/// declaring event repeats the event and adds `errorDeclaration`, which the event hash leaves
/// out: it has the same hash ID, and is kept here, beside the event it corrects.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The event declared in error.
    pub event_id: String,
    /// The declaration.
    pub declaration: ErrorDeclaration,
    /// The declaring event as received (JSON).
    pub event: String,
    /// Who declared it (the event's capturer).
    pub declared_by: Uscc,
    /// The ledger's record time of the declaration.
    pub record_time: Instant,
    /// Block height.
    pub height: u64,
    /// The declaring transaction.
    pub tx: Option<Hash>,
}

/// State keys of this module.
pub mod keys {
    /// A read point.
    pub fn read_point(sgln: &str) -> Vec<u8> {
        [b"read_point/".as_slice(), sgln.as_bytes()].concat()
    }
    /// An event, by the hex of its hash.
    pub fn event(hex: &str) -> Vec<u8> {
        [b"epcis_event/".as_slice(), hex.as_bytes()].concat()
    }
    /// The correction of an event, by the hex of its hash.
    pub fn correction(hex: &str) -> Vec<u8> {
        [b"epcis_correction/".as_slice(), hex.as_bytes()].concat()
    }
}

/// The read points.
pub const READ_POINTS: Table<ReadPoint> = Table::new(
    "read point",
    "read_point",
    codes::MAX_SGLN_BYTES,
    keys::read_point,
);

/// The hex digest of an event id (`ni:///sha-256;<hex>?ver=CBV2.0`, or the hex alone).
pub fn event_hex(id: &str) -> Result<String, String> {
    let hex = id
        .strip_prefix("ni:///sha-256;")
        .map(|rest| rest.split('?').next().unwrap_or(""))
        .unwrap_or(id);
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "an event id is ni:///sha-256;<64 lowercase hex>?ver=CBV2.0 or the 64 hex digits; {id:?} is neither"
        ));
    }
    Ok(hex.to_string())
}

/// The event `id` (hash ID or hex), if recorded.
pub fn find_event(state: &Overlay<'_>, id: &str) -> Option<LogisticsEvent> {
    let hex = event_hex(id).ok()?;
    state.get(&keys::event(&hex))
}

/// Logistics calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum LogisticsCall {
    /// Register a read point the signer operates (PORT_OPERATOR: port; CARGO_TERMINAL:
    /// airport; CUSTOMS: any).
    RegisterReadPoint {
        /// The SGLN.
        read_point: String,
        /// Its name.
        name: String,
        /// Its UN/LOCODE.
        locode: String,
        /// Its function.
        function: LocationFunction,
    },
    /// Designate a read point customs-controlled, or end that (CUSTOMS covering it).
    DesignateControlled {
        /// The SGLN.
        read_point: String,
        /// Controlled.
        controlled: bool,
    },
    /// Retire a read point (its operator).
    RetireReadPoint {
        /// The SGLN.
        read_point: String,
    },
    /// Capture an EPCIS 2.0 JSON-LD `EPCISDocument` (the read points' operator).
    Capture {
        /// The document, as produced by the port or terminal system.
        document: String,
    },
}

impl LogisticsCall {
    /// Who may make the call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            LogisticsCall::DesignateControlled { .. } => &[Role::Customs],
            LogisticsCall::RegisterReadPoint { .. }
            | LogisticsCall::RetireReadPoint { .. }
            | LogisticsCall::Capture { .. } => {
                &[Role::PortOperator, Role::CargoTerminal, Role::Customs]
            }
        }
    }

    /// The checks that need no state (the document is parsed and every event checked).
    pub fn precheck(&self) -> Result<(), ExecError> {
        match self {
            LogisticsCall::RegisterReadPoint {
                read_point,
                name,
                locode,
                function,
            } => {
                codes::sgln(read_point)?;
                validate_text("read point name", name, MAX_REF_BYTES)?;
                codes::locode_with(locode, *function).map(|_| ())
            }
            LogisticsCall::DesignateControlled { read_point, .. }
            | LogisticsCall::RetireReadPoint { read_point } => codes::sgln(read_point),
            LogisticsCall::Capture { document } => parse_document(document).map(|_| ()),
        }
    }
}

/// Parses and checks a captured document: every event, statelessly.
pub fn parse_document(document: &str) -> Result<Vec<ParsedEvent>, ExecError> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid(format!(
            "the EPCIS document is {} bytes, over the limit of {MAX_DOCUMENT_BYTES}",
            document.len()
        )));
    }
    let events = epcis::parse_document(document)?;
    if events.is_empty() || events.len() > MAX_EVENTS_PER_CAPTURE {
        return Err(invalid(format!(
            "an EPCIS document carries 1 to {MAX_EVENTS_PER_CAPTURE} events, this one {}",
            events.len()
        )));
    }
    Ok(events)
}

fn role_fits(actor: &Actor, f: LocationFunction) -> Result<(), ExecError> {
    let ok = actor.has_role(Role::Customs)
        || match f {
            LocationFunction::Port => actor.has_role(Role::PortOperator),
            LocationFunction::Airport => actor.has_role(Role::CargoTerminal),
            _ => actor.has_role(Role::PortOperator) || actor.has_role(Role::CargoTerminal),
        };
    if !ok {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "{} may not operate a {f:?} read point (ports: PORT_OPERATOR; airports: CARGO_TERMINAL; any: CUSTOMS)",
                actor.uscc()
            ),
        ));
    }
    Ok(())
}

fn province_of(subdivision: &str) -> &'static str {
    match subdivision {
        "BJ" => "110000",
        "TJ" => "120000",
        "HE" => "130000",
        _ => "",
    }
}

/// Executes a logistics call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &LogisticsCall,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
    match call {
        LogisticsCall::RegisterReadPoint {
            read_point,
            name,
            locode,
            function,
        } => {
            role_fits(actor, *function)?;
            READ_POINTS.require_new(state, read_point)?;
            let status = ReadPointStatus::Active;
            let rp = ReadPoint {
                read_point: read_point.clone(),
                name: name.clone(),
                locode: locode.clone(),
                function: *function,
                operator: by.clone(),
                customs_controlled: false,
                status,
                history: vec![Change::now(ctx, status, &by, "registered")],
            };
            READ_POINTS.put(state, read_point, &rp);
            Ok(())
        }
        LogisticsCall::DesignateControlled {
            read_point,
            controlled,
        } => {
            let mut rp = READ_POINTS.load(state, read_point)?;
            let loc = codes::locode(&rp.locode)?;
            if !actor.covers(province_of(loc.subdivision)) {
                return Err(ExecError::new(
                    ResultCode::Unauthorised,
                    format!(
                        "read point {read_point} is at {} ({}); customs department {by} does not cover it",
                        rp.locode, loc.subdivision
                    ),
                ));
            }
            rp.customs_controlled = *controlled;
            READ_POINTS.put(state, read_point, &rp);
            Ok(())
        }
        LogisticsCall::RetireReadPoint { read_point } => {
            let mut rp = READ_POINTS.load(state, read_point)?;
            require_operator(actor, &rp)?;
            record::transition(&mut rp, ReadPointStatus::Retired, ctx, &by, "retired")?;
            READ_POINTS.put(state, read_point, &rp);
            Ok(())
        }
        LogisticsCall::Capture { document } => {
            let events = parse_document(document)?;
            for ev in events {
                capture(state, ctx, actor, ev)?;
            }
            Ok(())
        }
    }
}

fn require_operator(actor: &Actor, rp: &ReadPoint) -> Result<(), ExecError> {
    if actor.uscc() != &rp.operator {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "{} is not the registered operator of read point {} (its operator is {})",
                actor.uscc(),
                rp.read_point,
                rp.operator
            ),
        ));
    }
    Ok(())
}

fn capture(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    ev: ParsedEvent,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
    let rp = READ_POINTS.find(state, &ev.read_point)?.ok_or_else(|| {
        ExecError::new(
            ResultCode::NotFound,
            format!(
                "read point {} is not registered; its operator registers it first",
                ev.read_point
            ),
        )
    })?;
    require_operator(actor, &rp)?;
    if rp.status != ReadPointStatus::Active {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!("read point {} is retired", rp.read_point),
        ));
    }
    if ev.event_time.ms() > ctx.time_ms.saturating_add(customs::MAX_CLOCK_SKEW_MS) {
        return Err(invalid(format!(
            "eventTime {} is in the future (the block time is {})",
            ev.event_time,
            Instant(ctx.time_ms)
        )));
    }
    let hex = event_hex(&ev.event_id).map_err(invalid)?;
    if let Some(decl) = &ev.error_declaration {
        return declare_error(state, ctx, &by, &hex, &ev, decl);
    }
    if state.get_raw(&keys::event(&hex)).is_some() {
        return Err(ExecError::new(
            ResultCode::AlreadyExists,
            format!("event {} is already recorded", ev.event_id),
        ));
    }
    let mut arrival_for = Vec::new();
    let is_arrival = matches!(ev.biz_step.as_deref(), Some("arriving" | "unloading"));
    if is_arrival && rp.customs_controlled {
        for entry in linked_entries(state, &ev.links) {
            let Some(mut d) = DECLARATIONS.find(state, &entry)? else {
                continue;
            };
            if d.port_locode != rp.locode {
                continue;
            }
            let basis = format!("{} at {}", ev.biz_step.as_deref().unwrap_or(""), rp.name);
            if customs::confirm_arrival(&mut d, ctx, ev.event_time, &by, Some(&ev.event_id), &basis)
            {
                DECLARATIONS.put(state, &entry, &d);
                arrival_for.push(entry);
            }
        }
    }
    for link in &ev.links {
        trace::add_event(state, &link.kind, &link.number, &hex)?;
    }
    let record = LogisticsEvent {
        event_id: ev.event_id,
        event_type: ev.event_type,
        event_time: ev.event_time,
        event_time_zone_offset: ev.event_time_zone_offset,
        biz_step: ev.biz_step,
        disposition: ev.disposition,
        read_point: ev.read_point,
        locode: rp.locode.clone(),
        biz_location: ev.biz_location,
        epcs: ev.epcs,
        links: ev.links,
        arrival_for,
        captured_by: by,
        record_time: Instant(ctx.time_ms),
        height: ctx.height,
        tx: ctx.tx,
        event: ev.json,
        namespaces: ev.namespaces,
    };
    state.put(keys::event(&hex), &record);
    Ok(())
}

/// The declarations `links` reach: named directly, or through a transport document or
/// container they declared.
fn linked_entries(state: &Overlay<'_>, links: &[EventLink]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for link in links {
        let found = match link.kind {
            TraceKind::Entry => vec![link.number.clone()],
            _ => trace::get(state, &link.kind, &link.number).entries,
        };
        for e in found {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out
}

fn declare_error(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    hex: &str,
    ev: &ParsedEvent,
    decl: &ErrorDeclaration,
) -> Result<(), ExecError> {
    let original: LogisticsEvent = state.get(&keys::event(hex)).ok_or_else(|| {
        ExecError::new(
            ResultCode::NotFound,
            format!(
                "an error declaration repeats the event it corrects unchanged and adds errorDeclaration; no recorded event hashes as {}",
                ev.event_id
            ),
        )
    })?;
    if &original.captured_by != by {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "event {} was captured by {}; only it declares it in error",
                original.event_id, original.captured_by
            ),
        ));
    }
    if decl.declares != original.event_id {
        return Err(invalid(format!(
            "the error declaration's eventID is {}, but the event it repeats is {}",
            decl.declares, original.event_id
        )));
    }
    if state.get_raw(&keys::correction(hex)).is_some() {
        return Err(ExecError::new(
            ResultCode::AlreadyExists,
            format!("event {} is already declared in error", original.event_id),
        ));
    }
    // An arrival it confirmed is withdrawn where the entry has not been released on it.
    for entry in &original.arrival_for {
        let Some(mut d) = DECLARATIONS.find(state, entry)? else {
            continue;
        };
        if d.arrival_event.as_deref() != Some(original.event_id.as_str()) {
            continue;
        }
        let released = d.times.released_at.is_some();
        if !released {
            d.times.arrival_confirmed_at = None;
            d.arrival_event = None;
        }
        let at = decl.declaration_time.max(
            d.steps
                .iter()
                .map(|s| s.at)
                .max()
                .unwrap_or(decl.declaration_time),
        );
        let what = if released {
            "ARRIVAL_DECLARED_IN_ERROR"
        } else {
            "ARRIVAL_WITHDRAWN"
        };
        let basis = format!(
            "the arrival event was declared in error{}",
            if released {
                "; the entry was already released"
            } else {
                ""
            }
        );
        customs::record_step(&mut d, ctx, what, at, by, &basis);
        DECLARATIONS.put(state, entry, &d);
    }
    let c = Correction {
        event_id: original.event_id,
        declaration: decl.clone(),
        event: ev.json.clone(),
        declared_by: by.clone(),
        record_time: Instant(ctx.time_ms),
        height: ctx.height,
        tx: ctx.tx,
    };
    state.put(keys::correction(hex), &c);
    Ok(())
}

fn event_key(id: &str) -> Result<Vec<u8>, String> {
    event_hex(id).map(|h| keys::event(&h))
}

fn correction_key(id: &str) -> Result<Vec<u8>, String> {
    event_hex(id).map(|h| keys::correction(&h))
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "read_point",
        "logistics read point",
        "a GS1 SGLN (urn:epc:id:sgln:…)",
        "urn:epc:id:sgln:6901234.00001.0",
        Id::Custom(|id| {
            codes::sgln(id).map_err(|e| e.message)?;
            Ok(keys::read_point(id))
        }),
        crate::kinds::Decoder::versioned::<ReadPoint>(),
    )
    .stateful::<ReadPoint>(),
    KindSpec::new(
        "logistics_event",
        "EPCIS logistics event",
        "an EPCIS event hash ID (ni:///sha-256;…?ver=CBV2.0) or its 64 hex digits",
        "0000000000000000000000000000000000000000000000000000000000000000",
        Id::Custom(event_key),
        crate::kinds::Decoder::versioned::<LogisticsEvent>(),
    ),
    KindSpec::new(
        "event_correction",
        "an EPCIS event declared in error",
        "the corrected event's hash ID or its 64 hex digits",
        "0000000000000000000000000000000000000000000000000000000000000000",
        Id::Custom(correction_key),
        crate::kinds::Decoder::of::<Correction>(),
    ),
];
