//! Reading an EPCIS 2.0 JSON-LD `EPCISDocument` into the events the ledger records, with every
//! stateless check of domain.md L and R1 (the read point's registration is checked against the
//! state by the caller).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::epcis_hash::{self, Context};
use super::ErrorDeclaration;
use crate::codes::{self, TraceKind};
use crate::error::{invalid, ExecError};
use crate::time::Instant;

/// Most EPCs one event names.
pub const MAX_EPCS_PER_EVENT: usize = 256;
/// Longest EPC or identifier string.
pub const MAX_EPC_BYTES: usize = 256;

/// The five EPCIS 2.0 event types.
pub const EVENT_TYPES: [&str; 5] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];

/// CBV 2.0 business steps (domain.md §4.1).
pub const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

/// CBV 2.0 dispositions (domain.md §4.1).
pub const DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

/// A shipment number an event names.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventLink {
    /// What kind of number.
    pub kind: TraceKind,
    /// The number.
    pub number: String,
}

/// One event of a document, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEvent {
    /// Its hash ID (an error declaration hashes as the event it corrects: the hash leaves
    /// `errorDeclaration` out).
    pub event_id: String,
    /// Type.
    pub event_type: String,
    /// `eventTime`.
    pub event_time: Instant,
    /// `eventTimeZoneOffset`.
    pub event_time_zone_offset: String,
    /// `bizStep`, normalised.
    pub biz_step: Option<String>,
    /// `disposition`, normalised.
    pub disposition: Option<String>,
    /// `readPoint.id`.
    pub read_point: String,
    /// `bizLocation.id`.
    pub biz_location: Option<String>,
    /// Every EPC named.
    pub epcs: Vec<String>,
    /// Shipment links.
    pub links: Vec<EventLink>,
    /// Its error declaration.
    pub error_declaration: Option<ErrorDeclaration>,
    /// The event JSON.
    pub json: String,
    /// The document's namespace prefixes.
    pub namespaces: Vec<(String, String)>,
}

fn str_field<'a>(ev: &'a Value, field: &str) -> Result<Option<&'a str>, ExecError> {
    match ev.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(format!("EPCIS field {field} must be a string"))),
    }
}

fn id_field(ev: &Value, field: &str) -> Result<Option<String>, ExecError> {
    match ev.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.get("id") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(invalid(format!(
                "EPCIS field {field} must be {{\"id\": \"…\"}}"
            ))),
        },
    }
}

/// The namespace prefixes an EPCIS document's `@context` declares (`prefix → IRI`).
pub fn namespaces(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |obj: &serde_json::Map<String, Value>| {
        for (k, v) in obj {
            if let Value::String(iri) = v {
                if !k.starts_with('@') {
                    out.push((k.clone(), iri.clone()));
                }
            }
        }
    };
    match doc.get("@context") {
        Some(Value::Object(o)) => add(o),
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::Object(o) = item {
                    add(o);
                }
            }
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// The document's prefixes that the event uses (in a key or a value), so each stored event
/// keeps what its export needs and no more.
fn used_namespaces(ns: &[(String, String)], ev: &Value) -> Vec<(String, String)> {
    fn uses(v: &Value, prefix: &str) -> bool {
        let p = format!("{prefix}:");
        match v {
            Value::String(s) => s.starts_with(&p),
            Value::Array(items) => items.iter().any(|i| uses(i, prefix)),
            Value::Object(o) => o.iter().any(|(k, v)| k.starts_with(&p) || uses(v, prefix)),
            _ => false,
        }
    }
    ns.iter().filter(|(p, _)| uses(ev, p)).cloned().collect()
}

/// A CBV value in one of its three spellings, as the bare word; or an extension value under a
/// declared prefix or an absolute IRI, as written.
fn cbv_value(
    field: &str,
    value: &str,
    words: &[&str],
    urn: &str,
    web: &str,
    ns: &[(String, String)],
) -> Result<String, ExecError> {
    let bare = value
        .strip_prefix(urn)
        .or_else(|| value.strip_prefix(web))
        .unwrap_or(value);
    if words.contains(&bare) {
        return Ok(bare.to_string());
    }
    let extension = match value.split_once(':') {
        Some((prefix, rest)) if !rest.is_empty() => {
            ns.iter().any(|(p, _)| p == prefix)
                || value.starts_with("http://")
                || value.starts_with("https://")
                || (value.starts_with("urn:") && !value.starts_with("urn:epcglobal:cbv:"))
        }
        _ => false,
    };
    if value.len() <= MAX_EPC_BYTES && extension {
        return Ok(value.to_string());
    }
    Err(invalid(format!(
        "{field} {value:?} is neither a CBV 2.0 value nor an extension under a prefix the document declares"
    )))
}

fn offset_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b':'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && (b[1] - b'0') * 10 + (b[2] - b'0') <= 14
        && (b[4] - b'0') * 10 + (b[5] - b'0') < 60
}

fn epc_strings(ev: &Value, field: &str, out: &mut Vec<String>) -> Result<(), ExecError> {
    match ev.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    _ => return Err(invalid(format!("EPCIS {field} holds strings"))),
                }
            }
            Ok(())
        }
        Some(_) => Err(invalid(format!("EPCIS {field} must be a list"))),
    }
}

/// The links of one event: containers among its EPCs, and the declaration, air waybill and
/// bill-of-lading URNs of its `bizTransactionList`, each checked (R1).
fn links(epcs: &[String], ev: &Value) -> Result<Vec<EventLink>, ExecError> {
    let mut out = Vec::new();
    for epc in epcs {
        if let Some(box_no) = epc.strip_prefix("urn:epc:id:bic:") {
            codes::container_no(box_no)?;
            out.push(EventLink {
                kind: TraceKind::Container,
                number: box_no.to_string(),
            });
        }
    }
    if let Some(list) = ev.get("bizTransactionList") {
        let items = list
            .as_array()
            .ok_or_else(|| invalid("EPCIS bizTransactionList must be a list"))?;
        for item in items {
            let value = item
                .get("bizTransaction")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a bizTransactionList entry needs a bizTransaction"))?;
            let link = if let Some(n) = value.strip_prefix("urn:cn:customs:dec:") {
                Some((TraceKind::Entry, n))
            } else if let Some(n) = value.strip_prefix("urn:cn:awb:") {
                Some((TraceKind::AirWaybill, n))
            } else {
                value
                    .strip_prefix("urn:cn:bol:")
                    .map(|n| (TraceKind::BillOfLading, n))
            };
            if let Some((kind, number)) = link {
                kind.check(number)?;
                out.push(EventLink {
                    kind,
                    number: number.to_string(),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn error_declaration(ev: &Value) -> Result<Option<ErrorDeclaration>, ExecError> {
    let Some(decl) = ev.get("errorDeclaration") else {
        return Ok(None);
    };
    let declares = str_field(ev, "eventID")?
        .ok_or_else(|| {
            invalid("an event with an errorDeclaration names the event it corrects in its eventID")
        })?
        .to_string();
    super::event_hex(&declares).map_err(invalid)?;
    let time = decl
        .get("declarationTime")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("errorDeclaration needs a declarationTime"))?;
    let declaration_time = Instant::parse(time).map_err(invalid)?;
    let reason = str_field(decl, "reason")?.map(String::from);
    let mut corrective_event_ids = Vec::new();
    epc_strings(decl, "correctiveEventIDs", &mut corrective_event_ids)?;
    Ok(Some(ErrorDeclaration {
        declares,
        declaration_time,
        reason,
        corrective_event_ids,
    }))
}

fn parse_event(
    ev: &Value,
    ctx: &Context,
    ns: &[(String, String)],
) -> Result<ParsedEvent, ExecError> {
    if !ev.is_object() {
        return Err(invalid("an EPCIS event is a JSON object"));
    }
    let event_type = str_field(ev, "type")?.unwrap_or("");
    if !EVENT_TYPES.contains(&event_type) {
        return Err(invalid(format!(
            "EPCIS event type {event_type:?} is not one of {}",
            EVENT_TYPES.join(", ")
        )));
    }
    let time =
        str_field(ev, "eventTime")?.ok_or_else(|| invalid("an EPCIS event needs an eventTime"))?;
    let event_time = Instant::parse(time).map_err(invalid)?;
    let offset = str_field(ev, "eventTimeZoneOffset")?
        .ok_or_else(|| invalid("an EPCIS event needs an eventTimeZoneOffset"))?;
    if !offset_ok(offset) {
        return Err(invalid(format!(
            "eventTimeZoneOffset {offset:?} must be ±hh:mm"
        )));
    }
    let read_point = id_field(ev, "readPoint")?.ok_or_else(|| {
        invalid("the ledger records events with a readPoint (the registered read point's SGLN)")
    })?;
    codes::sgln(&read_point)?;
    let biz_location = id_field(ev, "bizLocation")?;
    let biz_step = str_field(ev, "bizStep")?
        .map(|v| {
            cbv_value(
                "bizStep",
                v,
                BIZ_STEPS,
                "urn:epcglobal:cbv:bizstep:",
                "https://ref.gs1.org/cbv/BizStep-",
                ns,
            )
        })
        .transpose()?;
    let disposition = str_field(ev, "disposition")?
        .map(|v| {
            cbv_value(
                "disposition",
                v,
                DISPOSITIONS,
                "urn:epcglobal:cbv:disp:",
                "https://ref.gs1.org/cbv/Disp-",
                ns,
            )
        })
        .transpose()?;
    let mut epcs = Vec::new();
    for field in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        epc_strings(ev, field, &mut epcs)?;
    }
    if let Some(parent) = str_field(ev, "parentID")? {
        epcs.push(parent.to_string());
    }
    if epcs.len() > MAX_EPCS_PER_EVENT || epcs.iter().any(|e| e.len() > MAX_EPC_BYTES) {
        return Err(invalid(format!(
            "an event names at most {MAX_EPCS_PER_EVENT} EPCs of at most {MAX_EPC_BYTES} bytes"
        )));
    }
    let links = links(&epcs, ev)?;
    let error_declaration = error_declaration(ev)?;
    let event_id = epcis_hash::event_hash_id(ev, ctx).map_err(invalid)?;
    Ok(ParsedEvent {
        event_id,
        event_type: event_type.to_string(),
        event_time,
        event_time_zone_offset: offset.to_string(),
        biz_step,
        disposition,
        read_point,
        biz_location,
        epcs,
        links,
        error_declaration,
        json: ev.to_string(),
        namespaces: used_namespaces(ns, ev),
    })
}

/// Parses an `EPCISDocument` (JSON-LD) and checks each event.
pub fn parse_document(text: &str) -> Result<Vec<ParsedEvent>, ExecError> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("the EPCIS document is not JSON: {e}")))?;
    if doc.get("type").and_then(Value::as_str) != Some("EPCISDocument") {
        return Err(invalid("the document's type must be EPCISDocument"));
    }
    if doc.get("schemaVersion").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("the document's schemaVersion must be \"2.0\""));
    }
    let list = doc
        .get("epcisBody")
        .and_then(|b| b.get("eventList"))
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the document needs epcisBody.eventList"))?;
    let ns = namespaces(&doc);
    let ctx = Context::from_document(&doc).map_err(invalid)?;
    list.iter().map(|ev| parse_event(ev, &ctx, &ns)).collect()
}

/// The EPCIS context of exported documents.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// An `EPCISDocument` of recorded events (JSON-LD), each with its ledger id as `eventID` and
/// the ledger's `recordTime`, followed by the error declarations of `corrections` as they were
/// captured (with their own record time).
pub fn export(
    events: &[super::LogisticsEvent],
    corrections: &[super::Correction],
    creation_date: Instant,
) -> Value {
    let mut ns: Vec<(String, String)> = events
        .iter()
        .flat_map(|e| e.namespaces.iter().cloned())
        .collect();
    ns.sort();
    ns.dedup();
    let mut context = vec![Value::String(EPCIS_CONTEXT.into())];
    if !ns.is_empty() {
        let obj: serde_json::Map<String, Value> = ns
            .into_iter()
            .map(|(p, iri)| (p, Value::String(iri)))
            .collect();
        context.push(Value::Object(obj));
    }
    let with_ids = |json: &str, id: &str, record_time: Instant| {
        let mut v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("eventID".into(), Value::String(id.to_string()));
            o.insert("recordTime".into(), Value::String(record_time.to_string()));
        }
        v
    };
    let list: Vec<Value> = events
        .iter()
        .map(|e| with_ids(&e.event, &e.event_id, e.record_time))
        .chain(
            corrections
                .iter()
                .map(|c| with_ids(&c.event, &c.event_id, c.record_time)),
        )
        .collect();
    serde_json::json!({
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": creation_date.to_string(),
        "epcisBody": { "eventList": list },
    })
}

/// JSON text of `v` with each object's `type` key first and the other keys in order: EPCIS
/// readers (the reference event-hash generator among them) take a `bizTransactionList`,
/// `sourceList` or `destinationList` entry's type before its value, as CBV 2.0 writes them.
pub fn to_json_type_first(v: &Value) -> String {
    let mut out = String::new();
    write_type_first(v, &mut out);
    out
}

fn write_type_first(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push('{');
            let first = map.get_key_value("type");
            let rest = map.iter().filter(|(k, _)| k.as_str() != "type");
            for (i, (k, val)) in first.into_iter().chain(rest).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_type_first(val, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_type_first(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
