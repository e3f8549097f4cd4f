//! Checking a "Customs Clearance + Logistics" timeline from proven data: the records (the
//! number's index, each declaration, each event and its correction record, present or proven
//! absent) and the tx-log records of the transactions the steps name, all proven against one
//! header by the caller (online answers with [`crate::verify`], offline bundles with
//! [`crate::bundle`]). The timeline is then rebuilt here from the proven records with the
//! contracts' own function, never taken from the node, and every step that names a
//! transaction must have that transaction proven committed (code OK) at the step's height.
//! When the signed transaction is given too, its hash must match, and its call must be what
//! the step says: a customs call on that entry (or the capture that confirmed its arrival), or
//! a capture whose EPCIS document holds an event with that event id.

use concordat_contracts::codes::TraceKind;
use concordat_contracts::customs::{CustomsCall, Declaration};
use concordat_contracts::executor::TxLogRecord;
use concordat_contracts::logistics::{self, Correction, LogisticsCall, LogisticsEvent};
use concordat_contracts::trace::{self, Source, Timeline, TraceIndex};
use concordat_contracts::{Call, ResultCode, SignedTransaction};
use concordat_primitives::encoding;

/// A record proven present (`Some` bytes) or absent (`None`) at the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenRecord {
    /// Its kind.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// Its bytes, or `None` when proven absent.
    pub value: Option<Vec<u8>>,
}

/// A transaction proven in the log at the header, with its signed bytes when known.
#[derive(Debug, Clone)]
pub struct ProvenTx {
    /// The log record.
    pub record: TxLogRecord,
    /// The signed transaction.
    pub tx: Option<SignedTransaction>,
}

fn find<'a>(records: &'a [ProvenRecord], kind: &str, id: &str) -> Result<&'a ProvenRecord, String> {
    records
        .iter()
        .find(|r| r.kind == kind && r.id == id)
        .ok_or_else(|| format!("no proof of {kind}/{id} (present or absent)"))
}

fn present<T: serde::Serialize + serde::de::DeserializeOwned>(
    records: &[ProvenRecord],
    kind: &str,
    id: &str,
) -> Result<T, String> {
    let r = find(records, kind, id)?;
    let bytes = r
        .value
        .as_ref()
        .ok_or_else(|| format!("{kind}/{id} is named by the index but proven absent"))?;
    encoding::from_bytes(bytes).map_err(|e| format!("{kind}/{id} does not decode: {e}"))
}

/// Rebuilds and checks the timeline of `number` from proven records and transactions.
pub fn check_timeline(
    number: &str,
    records: &[ProvenRecord],
    txs: &[ProvenTx],
) -> Result<Timeline, String> {
    let kind = TraceKind::detect(number).map_err(|e| e.message)?;
    let index: TraceIndex = match &find(records, "trace", number)?.value {
        Some(bytes) => encoding::from_bytes(bytes)
            .map_err(|e| format!("the trace index does not decode: {e}"))?,
        None => TraceIndex::default(),
    };
    let declarations: Vec<Declaration> = index
        .entries
        .iter()
        .map(|e| present(records, "customs_declaration", e))
        .collect::<Result<_, _>>()?;
    let mut events: Vec<LogisticsEvent> = Vec::new();
    let mut corrections: Vec<Correction> = Vec::new();
    for hex in &index.events {
        events.push(present(records, "logistics_event", hex)?);
        if let Some(bytes) = &find(records, "event_correction", hex)?.value {
            corrections
                .push(encoding::from_bytes(bytes).map_err(|e| format!("correction {hex}: {e}"))?);
        }
    }
    for r in records {
        if r.value.is_some() {
            crate::verify::decode_value(&r.kind, r.value.as_deref().unwrap_or_default())
                .map_err(|e| e.to_string())?;
        }
    }
    let t = trace::timeline(number, kind, &declarations, &events, &corrections);
    for item in &t.items {
        let Some(hash) = item.tx else { continue };
        let proven = txs
            .iter()
            .find(|p| p.record.tx_hash == hash)
            .ok_or_else(|| format!("transaction {hash} of {} has no inclusion proof", item.what))?;
        if proven.record.code != ResultCode::Ok || proven.record.height != item.height {
            return Err(format!(
                "transaction {hash} is logged with {} at height {}, the step says OK at {}",
                proven.record.code.as_str(),
                proven.record.height,
                item.height
            ));
        }
        if let Some(stx) = &proven.tx {
            if stx.hash() != hash {
                return Err(format!(
                    "the transaction bytes given for {hash} hash differently"
                ));
            }
            check_call(item, &stx.tx.call)?;
        }
    }
    Ok(t)
}

fn check_call(item: &trace::TimelineItem, call: &Call) -> Result<(), String> {
    let captured = |document: &str| -> Result<Vec<String>, String> {
        logistics::parse_document(document)
            .map(|evs| evs.into_iter().map(|e| e.event_id).collect())
            .map_err(|e| e.message)
    };
    let ok = match (item.source, call) {
        (Source::Customs, Call::Customs(c)) => {
            let entry = match c {
                CustomsCall::Save(d) => &d.entry_id,
                CustomsCall::Submit { entry_id, .. }
                | CustomsCall::SubmitComplete { entry_id, .. }
                | CustomsCall::RecordTransportEntry { entry_id, .. }
                | CustomsCall::ConfirmArrival { entry_id, .. }
                | CustomsCall::Decide { entry_id, .. } => entry_id,
            };
            item.entry_id.as_ref() == Some(entry)
        }
        // An arrival event confirms the arrival of the declarations it reaches.
        (Source::Customs, Call::Logistics(LogisticsCall::Capture { .. })) => {
            item.what == "ARRIVAL_CONFIRMED"
        }
        (Source::Logistics, Call::Logistics(LogisticsCall::Capture { document })) => {
            let ids = captured(document)?;
            item.event_id.as_ref().is_some_and(|id| ids.contains(id))
        }
        _ => false,
    };
    if !ok {
        return Err(format!(
            "the transaction behind {} at {} is not the call the step claims",
            item.what, item.at
        ));
    }
    Ok(())
}
