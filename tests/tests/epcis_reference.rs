//! The ledger's EPCIS event hash IDs against the reference implementation,
//! `epcis-event-hash-generator` 1.9.3 (PyPI; `scripts/test.sh` installs it), driven by
//! `tests/epcis/ref_hashes.py` with `--type-first --per-event` (see that script and ADR 0018
//! for why): the fixtures of `tests/epcis/fixtures` event by event, and a varied set of events
//! captured on the ledger (object, aggregation, transformation, association and transaction
//! events, with and without extensions, and an error declaration), whose EPCIS export must give
//! back exactly the ledger's event IDs. The Python interpreter is `CONCORDAT_EPCIS_PYTHON`
//! (default `python3`).

use std::path::{Path, PathBuf};
use std::process::Command;

use concordat_contracts::codes::LocationFunction;
use concordat_contracts::logistics::epcis_hash::{document_events, event_hash_id, Context};
use concordat_contracts::logistics::{self, epcis, Correction, LogisticsCall, LogisticsEvent};
use concordat_contracts::time::Instant;
use concordat_contracts::Call;
use concordat_testkit::fixture::*;
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The reference's hash IDs of every event of the document at `path`, in document order
/// (each event hashed on its own, type before identifier; see tests/epcis/README.md).
fn reference(path: &Path) -> Vec<String> {
    reference_with(path, &["--type-first", "--per-event"])
}

/// The reference's hash IDs with the driver's `flags` (none: the whole document, as given).
fn reference_with(path: &Path, flags: &[&str]) -> Vec<String> {
    let python = std::env::var("CONCORDAT_EPCIS_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .env("TZ", "UTC")
        .arg(root().join("tests/epcis/ref_hashes.py"))
        .args(flags)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "the reference failed on {} (is epcis-event-hash-generator installed for {python}? \
         pip install -r tests/epcis/requirements.txt): {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn the_fixtures_hash_as_the_reference_hashes_them() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/epcis/fixtures"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonld"))
        .collect();
    files.sort();
    let mut events = 0;
    for path in files {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let ctx = Context::from_document(&doc).expect("context");
        let ours: Vec<String> = document_events(&doc)
            .expect("events")
            .into_iter()
            .map(|e| event_hash_id(e, &ctx).expect("hash"))
            .collect();
        assert_eq!(ours, reference(&path), "{}", path.display());
        events += ours.len();
    }
    assert!(events >= 12, "{events} events");
}

const RP: &str = "urn:epc:id:sgln:6901234.00001.0";

fn varied_events() -> Vec<Value> {
    vec![
        // An ObjectEvent of air cargo naming its air waybill.
        json!({
            "type": "ObjectEvent", "eventTime": "2026-09-08T10:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
            "epcList": ["urn:epc:id:sscc:6901234.0000000017"],
            "bizStep": "arriving", "disposition": "in_transit", "readPoint": {"id": RP},
            "bizTransactionList": [{"type": "cn:airWaybill", "bizTransaction": "urn:cn:awb:999-12345675"}]
        }),
        // With extensions (top level and nested), a URI-form step, a container.
        json!({
            "type": "ObjectEvent", "eventTime": "2026-09-08T02:20:00Z",
            "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
            "epcList": ["urn:epc:id:bic:CSQU3054383"],
            "bizStep": "urn:epcglobal:cbv:bizstep:loading", "readPoint": {"id": RP},
            "bizLocation": {"id": "urn:epc:id:sgln:6901234.00002.0"},
            "cn:vessel": "COSCO TIANJIN", "cn:seal": {"cn:number": "SEAL-A1", "cn:intact": true}
        }),
        // An AggregationEvent: pallets onto a unit load device.
        json!({
            "type": "AggregationEvent", "eventTime": "2026-09-08T11:00:00.250+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "ADD",
            "parentID": "urn:epc:id:sscc:6901234.0000000024",
            "childEPCs": ["urn:epc:id:sscc:6901234.0000000017", "urn:epc:id:sscc:6901234.0000000031"],
            "bizStep": "packing", "disposition": "in_progress", "readPoint": {"id": RP}
        }),
        // A TransformationEvent with quantities.
        json!({
            "type": "TransformationEvent", "eventTime": "2026-09-08T12:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "inputEPCList": ["urn:epc:id:sgtin:6901234.000123.1001"],
            "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.000124.L26", "quantity": 40, "uom": "H87"}],
            "bizStep": "repackaging", "readPoint": {"id": RP}
        }),
        // An AssociationEvent: a sensor on a container.
        json!({
            "type": "AssociationEvent", "eventTime": "2026-09-08T12:30:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "ADD",
            "parentID": "urn:epc:id:bic:CSQU3054383",
            "childEPCs": ["urn:epc:id:giai:6901234.SENSOR42"],
            "bizStep": "assembling", "readPoint": {"id": RP}
        }),
        // A TransactionEvent naming a declaration and a bill of lading.
        json!({
            "type": "TransactionEvent", "eventTime": "2026-09-08T13:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "ADD",
            "epcList": ["urn:epc:id:sscc:6901234.0000000017"],
            "bizTransactionList": [
                {"type": "cn:customsDeclaration", "bizTransaction": "urn:cn:customs:dec:010020260000654321"},
                {"type": "bol", "bizTransaction": "urn:cn:bol:COSU6123456780"}
            ],
            "bizStep": "https://ref.gs1.org/cbv/BizStep-holding", "readPoint": {"id": RP}
        }),
    ]
}

fn document(events: Vec<Value>) -> String {
    json!({
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"cn": "https://ns.concordat.cn/epcis/"}
        ],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-09-08T13:30:00+08:00",
        "epcisBody": {"eventList": events}
    })
    .to_string()
}

#[test]
fn the_exported_document_gives_back_the_ledgers_event_ids() {
    let mut chain = customs_baseline();
    chain.ok(
        &dept_key(DXTERM),
        Call::Logistics(LogisticsCall::RegisterReadPoint {
            read_point: RP.into(),
            name: "大兴机场货站".into(),
            locode: "CNPKX".into(),
            function: LocationFunction::Airport,
        }),
    );
    chain.at("2026-09-08T14:00");
    let events = varied_events();
    chain.ok(
        &dept_key(DXTERM),
        Call::Logistics(LogisticsCall::Capture {
            document: document(events.clone()),
        }),
    );
    // The first event declared in error: it repeats the event and adds errorDeclaration.
    let parsed = logistics::parse_document(&document(events.clone())).expect("parse");
    let mut declaring = events[0].clone();
    declaring["eventID"] = json!(parsed[0].event_id);
    declaring["errorDeclaration"] = json!({
        "declarationTime": "2026-09-08T13:50:00+08:00", "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:9a1f0c1e-0d5b-4b8e-9c43-2f1d3b8e7a10"]
    });
    chain.ok(
        &dept_key(DXTERM),
        Call::Logistics(LogisticsCall::Capture {
            document: document(vec![declaring]),
        }),
    );
    let recorded: Vec<LogisticsEvent> = parsed
        .iter()
        .map(|p| {
            let hex = logistics::event_hex(&p.event_id).expect("hex");
            chain.get(&logistics::keys::event(&hex)).expect("recorded")
        })
        .collect();
    let hex0 = logistics::event_hex(&parsed[0].event_id).expect("hex");
    let correction: Correction = chain
        .get(&logistics::keys::correction(&hex0))
        .expect("correction");
    let doc = epcis::export(
        &recorded,
        std::slice::from_ref(&correction),
        Instant(chain.time_ms),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("export.jsonld");
    std::fs::write(&file, epcis::to_json_type_first(&doc)).expect("write");
    let mut ledger: Vec<String> = recorded.iter().map(|e| e.event_id.clone()).collect();
    ledger.push(correction.event_id.clone());
    assert_eq!(reference(&file), ledger);
    // The exported document as it is, whole (the export writes each type first), gives the
    // same IDs.
    assert_eq!(reference_with(&file, &[]), ledger);
    // Every exported event names its ledger id.
    let list = doc["epcisBody"]["eventList"].as_array().expect("events");
    let ids: Vec<&str> = list
        .iter()
        .map(|e| e["eventID"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ledger.iter().map(String::as_str).collect::<Vec<_>>());
}
