//! The "Customs Clearance + Logistics" query (domain.md L) over HTTP: the timeline of a
//! shipment number, its proofs, its EPCIS export and a live feed (server-sent events).
//!
//! - `GET /v1/trace/{number}?height=H&proof=true`: the timeline at height H (default: the
//!   tip), built by `concordat_contracts::trace::timeline` from the records the number's
//!   index names. With `proof=true` the answer also carries, against one signed header, the
//!   state proof of the index and of every record, and for every transaction a step names its
//!   signed bytes and its tx-log inclusion proof: everything `concordat trace` verifies, and
//!   everything an offline holder needs (`concordat trace … --save`).
//! - `GET /v1/trace/{number}/epcis`: the events as an EPCIS 2.0 JSON-LD `EPCISDocument`, each
//!   with its event hash ID as `eventID`.
//! - `GET /v1/trace/{number}/watch`: `text/event-stream`; a `timeline` event at once and after
//!   every commit that changes the timeline.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use concordat_contracts::codes::TraceKind;
use concordat_contracts::customs::{self, Declaration};
use concordat_contracts::logistics::{self, Correction, LogisticsEvent};
use concordat_contracts::state::Overlay;
use concordat_contracts::trace::{self, Timeline, TraceIndex};
use concordat_primitives::{merkle_log, state};
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{
    bad_request, find_log_record, header_json, internal, not_found, ApiError, AppState,
};
use crate::core::VersionView;
use crate::store::NodeStore;

/// Most records one trace answer reads (the index's caps bound it as well).
pub const MAX_TRACE_RECORDS: usize = 2048;

#[derive(Deserialize)]
pub(crate) struct TraceQuery {
    height: Option<u64>,
    #[serde(default)]
    proof: bool,
}

/// What the index of a number names, read at one height.
struct Records {
    index: TraceIndex,
    declarations: Vec<Declaration>,
    events: Vec<LogisticsEvent>,
    corrections: Vec<Correction>,
}

fn read_records(store: &dyn NodeStore, kind: &TraceKind, number: &str, height: u64) -> Records {
    let view = VersionView::new(store, height);
    let ov = Overlay::new(&view);
    let index = trace::get(&ov, kind, number);
    let declarations = index
        .entries
        .iter()
        .take(MAX_TRACE_RECORDS)
        .filter_map(|e| ov.get::<Declaration>(&customs::keys::declaration(e)))
        .collect();
    let mut events = Vec::new();
    let mut corrections = Vec::new();
    for hex in index.events.iter().take(MAX_TRACE_RECORDS) {
        if let Some(e) = ov.get::<LogisticsEvent>(&logistics::keys::event(hex)) {
            events.push(e);
        }
        if let Some(c) = ov.get::<Correction>(&logistics::keys::correction(hex)) {
            corrections.push(c);
        }
    }
    Records {
        index,
        declarations,
        events,
        corrections,
    }
}

fn tip_height(s: &AppState) -> Result<u64, ApiError> {
    Ok(s.store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis committed"))?
        .height)
}

fn parse_number(number: &str) -> Result<TraceKind, ApiError> {
    TraceKind::detect(number).map_err(|e| bad_request(e.message))
}

/// The state answer (as `GET /v1/state/{kind}/{id}?proof=true` gives it, without the header,
/// which the trace answer carries once) of `kind`/`id` at `height`.
fn record_proof(
    store: &dyn NodeStore,
    kind: &str,
    id: &str,
    height: u64,
) -> Result<Value, ApiError> {
    let key =
        concordat_contracts::kinds::query_key(kind, id).map_err(|e| internal(e.to_string()))?;
    let (value, proof) = state::get_with_proof(store, &key, height).map_err(internal)?;
    Ok(json!({
        "kind": kind, "id": id, "height": height, "key": hex::encode(&key),
        "found": value.is_some(), "value_bytes": value.as_deref().map(hex::encode),
        "proof": hex::encode(proof.to_bytes()),
    }))
}

/// The signed bytes and the inclusion proof (against the log of the header at `height`) of
/// every transaction the timeline names.
fn tx_proofs(
    store: &dyn NodeStore,
    t: &Timeline,
    log_size: u64,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut out = BTreeMap::new();
    for hash in t.items.iter().filter_map(|i| i.tx) {
        let key = hash.to_hex();
        if out.contains_key(&key) {
            continue;
        }
        let loc = store
            .tx_location(&hash)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("transaction {hash} is not indexed")))?;
        let block = store
            .block(loc.height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {} missing", loc.height)))?;
        let stx = block
            .txs
            .get(loc.index as usize)
            .ok_or_else(|| internal("transaction index and block disagree"))?;
        let proof =
            merkle_log::prove_inclusion(store, loc.log_index, log_size).map_err(internal)?;
        let root = merkle_log::root_at(store, log_size).map_err(internal)?;
        let record = find_log_record(store, loc.log_index)?;
        out.insert(
            key,
            json!({
                "tx": hex::encode(stx.to_bytes()),
                "log": {
                    "index": loc.log_index, "size": log_size,
                    "leaf": hex::encode(record.leaf_bytes()),
                    "record": {"tx_hash": record.tx_hash, "code": record.code.as_str(), "height": record.height},
                    "proof": proof.hashes, "root": root,
                },
            }),
        );
    }
    Ok(out)
}

/// The trace answer of `number` at `height`.
fn trace_answer(s: &AppState, number: &str, height: u64, proof: bool) -> Result<Value, ApiError> {
    let kind = parse_number(number)?;
    let store = s.store.as_ref();
    let r = read_records(store, &kind, number, height);
    let t = trace::timeline(
        number,
        kind.clone(),
        &r.declarations,
        &r.events,
        &r.corrections,
    );
    let mut v = json!({
        "number": number, "kind": kind.as_str(), "height": height,
        "found": !(r.index.entries.is_empty() && r.index.events.is_empty()),
        "timeline": t.items, "clearance": t.clearance,
    });
    if proof {
        if height == 0 {
            return Err(bad_request(
                "proofs are against a signed header: height must be at least 1",
            ));
        }
        let h = header_json(s, height)?;
        let mut records = vec![record_proof(store, "trace", number, height)?];
        for d in &r.declarations {
            records.push(record_proof(
                store,
                "customs_declaration",
                &d.entry_id,
                height,
            )?);
        }
        for hex in &r.index.events {
            records.push(record_proof(store, "logistics_event", hex, height)?);
            records.push(record_proof(store, "event_correction", hex, height)?);
        }
        let log_size = h["header"]["tx_log_size"]
            .as_u64()
            .ok_or_else(|| internal("header without tx_log_size"))?;
        v["records"] = json!(records);
        v["txs"] = json!(tx_proofs(store, &t, log_size)?);
        for f in ["header", "header_bytes", "certificate", "validator_set"] {
            v[f] = h[f].clone();
        }
        v["state_root"] = h["header"]["state_root"].clone();
    }
    Ok(v)
}

/// `GET /v1/trace/{number}`.
pub(crate) async fn get_trace(
    State(s): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<TraceQuery>,
) -> Result<Json<Value>, ApiError> {
    parse_number(&number)?;
    let tip = tip_height(&s)?;
    let height = q.height.unwrap_or(tip);
    if height > tip {
        return Err(not_found(format!("height {height} is above the tip {tip}")));
    }
    let s2 = s.clone();
    tokio::task::spawn_blocking(move || trace_answer(&s2, &number, height, q.proof))
        .await
        .map_err(|e| internal(format!("building the trace: {e}")))?
        .map(Json)
}

/// `GET /v1/trace/{number}/epcis` (`application/ld+json`, each object's `type` first).
pub(crate) async fn get_trace_epcis(
    State(s): State<AppState>,
    Path(number): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let kind = parse_number(&number)?;
    let tip = s
        .store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis committed"))?;
    let store = s.store.clone();
    let r = tokio::task::spawn_blocking(move || {
        read_records(store.as_ref(), &kind, &number, tip.height)
    })
    .await
    .map_err(|e| internal(format!("reading the events: {e}")))?;
    let doc = logistics::epcis::export(
        &r.events,
        &r.corrections,
        concordat_contracts::time::Instant(tip.time_ms),
    );
    let text = logistics::epcis::to_json_type_first(&doc);
    Ok(axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/ld+json")],
        text,
    )))
}

/// `GET /v1/trace/{number}/watch`: server-sent events, one `timeline` event now and one after
/// each commit that changes the timeline (keep-alive comments in between).
pub(crate) async fn watch_trace(
    State(s): State<AppState>,
    Path(number): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    parse_number(&number)?;
    let commits = s.core.commits.subscribe();
    let state = (s, number, commits, None::<String>, true);
    let stream = futures::stream::unfold(
        state,
        |(s, number, mut commits, last, mut first)| async move {
            loop {
                if !first {
                    match commits.recv().await {
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
                first = false;
                let height = tip_height(&s).ok()?;
                let s2 = s.clone();
                let n2 = number.clone();
                let answer =
                    tokio::task::spawn_blocking(move || trace_answer(&s2, &n2, height, false))
                        .await
                        .ok()?
                        .ok()?;
                let body =
                    json!({"timeline": answer["timeline"], "clearance": answer["clearance"]})
                        .to_string();
                if last.as_deref() == Some(body.as_str()) {
                    continue;
                }
                let event = Event::default()
                    .event("timeline")
                    .id(height.to_string())
                    .data(answer.to_string());
                return Some((Ok(event), (s, number, commits, Some(body), false)));
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
