//! Calls of the customs and logistics scenarios (domain.md scenario 7 and its kin): business
//! times, E4's declaration of E5's devices, customs decisions, EPCIS events and documents.

use concordat_contracts::codes::{IeFlag, TraceKind};
use concordat_contracts::customs::{
    CustomsCall, DeclarationDraft, DeclarationMode, GoodsItem, TransportDoc,
};
use concordat_contracts::logistics::LogisticsCall;
use concordat_contracts::time::Instant;
use concordat_contracts::Call;
use serde_json::{json, Value};

use crate::fixture::E5;

/// A business time from RFC 3339.
pub fn t(s: &str) -> Instant {
    Instant::parse(s).expect("time")
}

/// E4's export declaration of E5's patient monitors by air at `port`, on air waybill `awb`.
pub fn draft(entry: &str, mode: DeclarationMode, port: &str, awb: &str) -> DeclarationDraft {
    DeclarationDraft {
        entry_id: entry.into(),
        ie_flag: IeFlag::Export,
        trader: E5.into(),
        trader_customs_code: Some("1108960001".into()),
        mode,
        transport_mode: 4,
        transport_docs: vec![TransportDoc {
            kind: TraceKind::AirWaybill,
            number: awb.into(),
        }],
        containers: vec![],
        port_locode: port.into(),
        items: vec![GoodsItem {
            hs_code: "9018190000".into(),
            description: "医用监护仪 (patient monitors)".into(),
            quantity: 40,
            unit: "SET".into(),
            value_fen: 186_000_000,
        }],
    }
}

/// A customs decision (`ACCEPTED`, `RELEASED`, …) at business time `at`.
pub fn decide(entry: &str, to: &str, at: &str) -> Call {
    Call::Customs(CustomsCall::Decide {
        entry_id: entry.into(),
        to: serde_json::from_value(Value::String(to.into())).expect("status"),
        at: t(at),
        basis: String::new(),
    })
}

/// An EPCIS ObjectEvent of air cargo (an SSCC) at read point `rp`, naming air waybill `awb`.
pub fn cargo_event(step: &str, time: &str, rp: &str, awb: &str) -> Value {
    json!({
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sscc:6901234.0000000017"],
        "action": "OBSERVE",
        "bizStep": step,
        "disposition": "in_transit",
        "readPoint": {"id": rp},
        "bizTransactionList": [
            {"type": "cn:airWaybill", "bizTransaction": format!("urn:cn:awb:{awb}")}
        ]
    })
}

/// An EPCIS 2.0 document of `events`, with the `cn` extension namespace declared.
pub fn epcis_document(events: Vec<Value>) -> String {
    json!({
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"cn": "https://ns.concordat.cn/epcis/"}
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-09-08T10:00:30+08:00",
        "epcisBody": {"eventList": events}
    })
    .to_string()
}

/// A `Logistics.Capture` of a document of `events`.
pub fn capture(events: Vec<Value>) -> Call {
    Call::Logistics(LogisticsCall::Capture {
        document: epcis_document(events),
    })
}
