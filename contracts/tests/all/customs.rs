//! Customs declarations (K), logistics events (L) and rules R1, R12, R13 and R14, through
//! signed transactions on the in-memory chain: scenario 7 of domain.md and its CNPEK variant,
//! a TWO_STEP import that becomes overdue, error declarations, and every refusal the issue
//! names (release before arrival, capture by an unregistered operator, a port read point at an
//! airport, bad container, air-waybill and declaration numbers), each changing nothing.

use concordat_contracts::codes::{IeFlag, LocationFunction, TraceKind};
use concordat_contracts::credit::{CreditCall, Scheme};
use concordat_contracts::customs::{
    self, CustomsCall, Declaration, DeclarationDraft, DeclarationFlag, DeclarationMode,
    DeclarationStatus, GoodsItem, SlaResult, TransportDoc,
};
use concordat_contracts::logistics::{self, Correction, LogisticsCall, LogisticsEvent};
use concordat_contracts::state::Overlay;
use concordat_contracts::time::Instant;
use concordat_contracts::trace::{self, TraceIndex};
use concordat_contracts::{Call, ResultCode};
use concordat_testkit::chain::Chain;
use concordat_testkit::customs::{capture, cargo_event, decide, draft, t};
use concordat_testkit::fixture::*;
use serde_json::{json, Value};

pub(crate) const ENTRY: &str = "010020260000654321";
pub(crate) const AWB: &str = "999-12345675";
pub(crate) const DAXING_RP: &str = "urn:epc:id:sgln:6901234.00001.0";
const PEK_RP: &str = "urn:epc:id:sgln:6901234.00002.0";
const TJ_RP: &str = "urn:epc:id:sgln:6907777.00001.0";

pub(crate) fn cus(c: CustomsCall) -> Call {
    Call::Customs(c)
}

pub(crate) fn log(c: LogisticsCall) -> Call {
    Call::Logistics(c)
}

/// Registers `rp` (by `operator`, at `locode`) and has Beijing or Tianjin customs designate it
/// customs-controlled.
pub(crate) fn read_point(
    chain: &mut Chain,
    operator: usize,
    customs: usize,
    rp: &str,
    locode: &str,
    function: LocationFunction,
) {
    chain.ok(
        &dept_key(operator),
        log(LogisticsCall::RegisterReadPoint {
            read_point: rp.into(),
            name: format!("{locode} terminal"),
            locode: locode.into(),
            function,
        }),
    );
    chain.ok(
        &dept_key(customs),
        log(LogisticsCall::DesignateControlled {
            read_point: rp.into(),
            controlled: true,
        }),
    );
}

pub(crate) fn declaration(chain: &Chain, entry: &str) -> Declaration {
    chain
        .get(&customs::keys::declaration(entry))
        .expect("declaration")
}

fn index(chain: &Chain, kind: TraceKind, number: &str) -> TraceIndex {
    chain
        .get(&trace::keys::trace(&kind, number))
        .expect("trace index")
}

/// Scenario 7 up to the release: E4 declares the export of E5's devices in ADVANCE mode at
/// 08:30; the Daxing cargo terminal's `arriving` at 10:00 confirms arrival; customs assesses
/// at 10:05 and releases at 10:50.
pub(crate) fn scenario7_released() -> Chain {
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        DXTERM,
        BJCUS,
        DAXING_RP,
        "CNPKX",
        LocationFunction::Airport,
    );
    let e4 = ent_key(E4);
    chain.at("2026-09-08T08:30");
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    chain.ok(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    chain.at("2026-09-08T08:40");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "ACCEPTED", "2026-09-08T08:40:00+08:00"),
    );
    // The goods have not arrived: release is refused, and nothing changes.
    let msg = chain.refused(
        &dept_key(BJCUS),
        decide(ENTRY, "RELEASED", "2026-09-08T08:41:00+08:00"),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("release before arrival"), "{msg}");
    chain.at("2026-09-08T10:00");
    chain.ok(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            DAXING_RP,
            AWB,
        )]),
    );
    chain.at("2026-09-08T10:05");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "ASSESSED", "2026-09-08T10:05:00+08:00"),
    );
    chain.at("2026-09-08T10:50");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "RELEASED", "2026-09-08T10:50:00+08:00"),
    );
    chain
}

#[test]
fn scenario_7_advance_air_export_at_daxing() {
    let mut chain = scenario7_released();
    let d = declaration(&chain, ENTRY);
    assert_eq!(d.status, DeclarationStatus::Released);
    assert_eq!(
        d.times.arrival_confirmed_at,
        Some(t("2026-09-08T10:00:00+08:00"))
    );
    let c = d.clearance.expect("measured on release");
    assert_eq!(c.hours, "0.83");
    assert_eq!(c.target_minutes, 66);
    assert_eq!(c.result, SlaResult::Pass);
    assert!(d.flags.is_empty(), "{:?}", d.flags);
    assert!(d.arrival_event.is_some());
    // Every step names its transaction, for the timeline's proofs.
    assert!(d.steps.iter().all(|s| s.tx.is_some()), "{:?}", d.steps);

    // 13:20 loading, 14:05 departing.
    chain.at("2026-09-08T14:06");
    chain.ok(
        &dept_key(DXTERM),
        capture(vec![
            cargo_event("loading", "2026-09-08T13:20:00+08:00", DAXING_RP, AWB),
            cargo_event(
                "urn:epcglobal:cbv:bizstep:departing",
                "2026-09-08T14:05:00+08:00",
                DAXING_RP,
                AWB,
            ),
        ]),
    );
    // The AWB finds the declaration and the three events.
    let idx = index(&chain, TraceKind::AirWaybill, AWB);
    assert_eq!(idx.entries, vec![ENTRY.to_string()]);
    assert_eq!(idx.events.len(), 3);
    let steps: Vec<String> = idx
        .events
        .iter()
        .map(|h| {
            let e: LogisticsEvent = chain.get(&logistics::keys::event(h)).expect("event");
            assert_eq!(e.event_id, format!("ni:///sha-256;{h}?ver=CBV2.0"));
            e.biz_step.expect("step")
        })
        .collect();
    assert_eq!(steps, ["arriving", "loading", "departing"]);
    // The entry number finds it too.
    assert_eq!(
        index(&chain, TraceKind::Entry, ENTRY).entries,
        vec![ENTRY.to_string()]
    );
    chain.at("2026-09-08T15:00");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "CLOSED", "2026-09-08T15:00:00+08:00"),
    );
}

#[test]
fn the_cnpek_variant_reports_the_sla_breach_and_blocks_nothing() {
    const PEK_ENTRY: &str = "010020260000654322";
    const PEK_AWB: &str = "999-12345686";
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        PEKTERM,
        BJCUS,
        PEK_RP,
        "CNPEK",
        LocationFunction::Airport,
    );
    let e4 = ent_key(E4);
    let cus_key = dept_key(BJCUS);
    chain.at("2026-09-08T08:30");
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            PEK_ENTRY,
            DeclarationMode::Advance,
            "CNPEK",
            PEK_AWB,
        ))),
    );
    chain.ok(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: PEK_ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    chain.at("2026-09-08T10:00");
    chain.ok(
        &dept_key(PEKTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            PEK_RP,
            PEK_AWB,
        )]),
    );
    chain.at("2026-09-08T12:10");
    for (to, at) in [
        ("ACCEPTED", "10:02"),
        ("ASSESSED", "10:05"),
        ("INSPECTION", "10:20"),
        ("ASSESSED", "12:00"),
        ("RELEASED", "12:10"),
    ] {
        chain.ok(
            &cus_key,
            decide(PEK_ENTRY, to, &format!("2026-09-08T{at}:00+08:00")),
        );
    }
    let d = declaration(&chain, PEK_ENTRY);
    let c = d.clearance.expect("measured");
    assert_eq!((c.hours.as_str(), c.result), ("2.17", SlaResult::Breach));
    assert_eq!(d.flags, vec![DeclarationFlag::SlaBreach]);
    assert_eq!(
        d.times.inspection_ordered_at,
        Some(t("2026-09-08T10:20:00+08:00"))
    );
    // Reported, not blocking: the entry still closes.
    chain.at("2026-09-08T12:30");
    chain.ok(
        &cus_key,
        decide(PEK_ENTRY, "CLOSED", "2026-09-08T12:30:00+08:00"),
    );
}

#[test]
fn an_arrival_elsewhere_or_at_an_uncontrolled_read_point_confirms_nothing() {
    let mut chain = customs_baseline();
    // Registered but not designated customs-controlled.
    chain.ok(
        &dept_key(DXTERM),
        log(LogisticsCall::RegisterReadPoint {
            read_point: DAXING_RP.into(),
            name: "Daxing cargo terminal".into(),
            locode: "CNPKX".into(),
            function: LocationFunction::Airport,
        }),
    );
    let e4 = ent_key(E4);
    chain.at("2026-09-08T08:30");
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    chain.at("2026-09-08T10:00");
    chain.ok(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            DAXING_RP,
            AWB,
        )]),
    );
    assert_eq!(declaration(&chain, ENTRY).times.arrival_confirmed_at, None);
    // A STANDARD declaration is lodged only after arrival.
    let mut standard = draft(
        "010020260000654329",
        DeclarationMode::Standard,
        "CNPKX",
        AWB,
    );
    standard.transport_docs.clear();
    chain.ok(&e4, cus(CustomsCall::Save(standard)));
    let msg = chain.refused(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: "010020260000654329".into(),
            at: t("2026-09-08T10:00:00+08:00"),
        }),
        ResultCode::InvalidTransition,
    );
    assert!(msg.contains("arrival"), "{msg}");
}

#[test]
fn refusals_change_nothing() {
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        DXTERM,
        BJCUS,
        DAXING_RP,
        "CNPKX",
        LocationFunction::Airport,
    );
    chain.at("2026-09-08T10:00");
    // Capture by an operator not registered for the read point.
    let msg = chain.refused(
        &dept_key(PEKTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T09:59:00+08:00",
            DAXING_RP,
            AWB,
        )]),
        ResultCode::Unauthorised,
    );
    assert!(msg.contains("not the registered operator"), "{msg}");
    // At a read point nobody registered.
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T09:59:00+08:00",
            "urn:epc:id:sgln:6901234.00009.0",
            AWB,
        )]),
        ResultCode::NotFound,
    );
    // A port read point given an airport LOCODE (CNTSN is Tianjin's airport).
    let msg = chain.refused(
        &dept_key(TJPORT),
        log(LogisticsCall::RegisterReadPoint {
            read_point: TJ_RP.into(),
            name: "Tianjin port gate".into(),
            locode: "CNTSN".into(),
            function: LocationFunction::Port,
        }),
        ResultCode::BadIdentifier,
    );
    assert!(msg.contains("not a Port"), "{msg}");
    // A port operator may not run an airport read point.
    chain.refused(
        &dept_key(TJPORT),
        log(LogisticsCall::RegisterReadPoint {
            read_point: TJ_RP.into(),
            name: "Binhai airport".into(),
            locode: "CNTSN".into(),
            function: LocationFunction::Airport,
        }),
        ResultCode::Unauthorised,
    );
    // Bad numbers.
    let e4 = ent_key(E4);
    let mut bad_box = draft(ENTRY, DeclarationMode::Advance, "CNPKX", AWB);
    bad_box.containers = vec!["TGHU1234568".into()];
    let msg = chain.refused(
        &e4,
        cus(CustomsCall::Save(bad_box)),
        ResultCode::BadIdentifier,
    );
    assert!(msg.contains("check digit"), "{msg}");
    let msg = chain.refused(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            "999-12345674",
        ))),
        ResultCode::BadIdentifier,
    );
    assert!(msg.contains("expected 5"), "{msg}");
    let msg = chain.refused(
        &e4,
        cus(CustomsCall::Save(draft(
            "01002026000065432",
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
        ResultCode::BadIdentifier,
    );
    assert!(msg.contains("18 digits"), "{msg}");
    // An import number declared as an export.
    chain.refused(
        &e4,
        cus(CustomsCall::Save(draft(
            "010020261000654321",
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
        ResultCode::InvalidArgument,
    );
    // A bad container and a bad air waybill inside an EPCIS event.
    let mut boxed = cargo_event("arriving", "2026-09-08T09:59:00+08:00", DAXING_RP, AWB);
    boxed["epcList"] = json!(["urn:epc:id:bic:TGHU1234568"]);
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![boxed]),
        ResultCode::BadIdentifier,
    );
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T09:59:00+08:00",
            DAXING_RP,
            "999-12345674",
        )]),
        ResultCode::BadIdentifier,
    );
    // Not a CBV step, and no extension prefix declared for it.
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "flying",
            "2026-09-08T09:59:00+08:00",
            DAXING_RP,
            AWB,
        )]),
        ResultCode::InvalidArgument,
    );
    // An event in the future.
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T11:00:00+08:00",
            DAXING_RP,
            AWB,
        )]),
        ResultCode::InvalidArgument,
    );
    // One bad event refuses the whole document.
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![
            cargo_event("arriving", "2026-09-08T09:58:00+08:00", DAXING_RP, AWB),
            cargo_event(
                "arriving",
                "2026-09-08T09:59:00+08:00",
                DAXING_RP,
                "999-1234567",
            ),
        ]),
        ResultCode::BadIdentifier,
    );
    // Customs of another province decides nothing here.
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    chain.ok(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T10:00:00+08:00"),
        }),
    );
    chain.refused(
        &dept_key(TJCUS),
        decide(ENTRY, "ACCEPTED", "2026-09-08T10:00:00+08:00"),
        ResultCode::Unauthorised,
    );
    // Business times do not run backwards.
    chain.refused(
        &dept_key(BJCUS),
        decide(ENTRY, "ACCEPTED", "2026-09-08T09:00:00+08:00"),
        ResultCode::InvalidArgument,
    );
    // The same event twice.
    chain.ok(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T09:59:00+08:00",
            DAXING_RP,
            AWB,
        )]),
    );
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T09:59:00+08:00",
            DAXING_RP,
            AWB,
        )]),
        ResultCode::AlreadyExists,
    );
}

/// A TWO_STEP import at Xingang, sea freight in a container, released on its summary
/// declaration.
fn two_step_released() -> (Chain, &'static str) {
    const IMPORT: &str = "020220261000123456";
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        TJPORT,
        TJCUS,
        TJ_RP,
        "CNTXG",
        LocationFunction::Port,
    );
    let e2 = ent_key(E2);
    chain.at("2026-05-02T09:00");
    let d = DeclarationDraft {
        entry_id: IMPORT.into(),
        ie_flag: IeFlag::Import,
        trader: E2.into(),
        trader_customs_code: None,
        mode: DeclarationMode::TwoStep,
        transport_mode: 1,
        transport_docs: vec![TransportDoc {
            kind: TraceKind::BillOfLading,
            number: "COSU6123456780".into(),
        }],
        containers: vec!["CSQU3054383".into()],
        port_locode: "CNTXG".into(),
        items: vec![GoodsItem {
            hs_code: "7208510000".into(),
            description: "热轧钢板 (hot-rolled plate)".into(),
            quantity: 25_000,
            unit: "KG".into(),
            value_fen: 12_500_000,
        }],
    };
    chain.ok(&e2, cus(CustomsCall::Save(d)));
    let tj = dept_key(TJCUS);
    chain.ok(
        &tj,
        cus(CustomsCall::RecordTransportEntry {
            entry_id: IMPORT.into(),
            at: t("2026-05-02T06:00:00+08:00"),
        }),
    );
    chain.ok(
        &e2,
        cus(CustomsCall::Submit {
            entry_id: IMPORT.into(),
            at: t("2026-05-02T09:00:00+08:00"),
        }),
    );
    // The container is unloaded at the controlled quay (found through its container number).
    chain.at("2026-05-02T12:00");
    let unloading = json!({
        "type": "ObjectEvent",
        "eventTime": "2026-05-02T11:30:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:bic:CSQU3054383"],
        "action": "OBSERVE",
        "bizStep": "https://ref.gs1.org/cbv/BizStep-unloading",
        "readPoint": {"id": TJ_RP},
        "cn:vessel": "COSCO TIANJIN"
    });
    chain.ok(&dept_key(TJPORT), capture(vec![unloading]));
    chain.at("2026-05-02T13:00");
    for (to, at) in [
        ("ACCEPTED", "12:00"),
        ("ASSESSED", "12:30"),
        ("RELEASED", "13:00"),
    ] {
        chain.ok(
            &tj,
            decide(IMPORT, to, &format!("2026-05-02T{at}:00+08:00")),
        );
    }
    (chain, IMPORT)
}

#[test]
fn a_two_step_complete_declaration_in_time_closes_without_a_flag() {
    let (mut chain, entry) = two_step_released();
    let d = declaration(&chain, entry);
    assert_eq!(
        d.complete_due_on.map(|d| d.to_string()).as_deref(),
        Some("2026-05-16")
    );
    assert_eq!(
        d.times.arrival_confirmed_at,
        Some(t("2026-05-02T11:30:00+08:00"))
    );
    let c = d
        .clearance
        .expect("import clearance from the transport's entry");
    assert_eq!((c.hours.as_str(), c.result), ("7.00", SlaResult::Pass));
    // A TWO_STEP entry does not close before its complete declaration.
    chain.refused(
        &dept_key(TJCUS),
        decide(entry, "CLOSED", "2026-05-02T13:00:00+08:00"),
        ResultCode::InvalidTransition,
    );
    chain.at("2026-05-10T09:00");
    chain.ok(
        &ent_key(E2),
        cus(CustomsCall::SubmitComplete {
            entry_id: entry.into(),
            at: t("2026-05-10T09:00:00+08:00"),
        }),
    );
    chain.at("2026-05-20T09:00");
    chain.block(&[]);
    chain.ok(
        &dept_key(TJCUS),
        decide(entry, "CLOSED", "2026-05-20T09:00:00+08:00"),
    );
    assert!(declaration(&chain, entry).flags.is_empty());
    let records: Option<Vec<String>> =
        chain.get(&concordat_contracts::state::keys::dishonesty_index(E2));
    assert!(records.unwrap_or_default().is_empty());
}

#[test]
fn an_overdue_complete_declaration_is_flagged_and_raises_a_customs_credit_event() {
    let (mut chain, entry) = two_step_released();
    chain.at("2026-05-16T23:00");
    chain.block(&[]);
    assert!(
        declaration(&chain, entry).flags.is_empty(),
        "due through the 16th"
    );
    chain.at("2026-05-17T08:00");
    chain.block(&[]);
    let d = declaration(&chain, entry);
    assert_eq!(d.flags, vec![DeclarationFlag::OverdueComplete]);
    let rec: concordat_contracts::credit::DishonestyRecord = chain
        .get(&concordat_contracts::state::keys::dishonesty(&format!(
            "CUS-R13-{entry}"
        )))
        .expect("a customs credit event");
    assert_eq!(rec.party.as_str(), E2);
    assert_eq!(rec.authority.as_str(), dept_uscc(TJCUS));
    assert_eq!(
        rec.severity,
        concordat_contracts::credit::Severity::Light,
        "the policy's default"
    );
    // Late, the complete declaration is still taken; the flag stays.
    chain.ok(
        &ent_key(E2),
        cus(CustomsCall::SubmitComplete {
            entry_id: entry.into(),
            at: t("2026-05-17T08:00:00+08:00"),
        }),
    );
    assert_eq!(
        declaration(&chain, entry).flags,
        vec![DeclarationFlag::OverdueComplete]
    );
    // The container and the bill of lading find the entry and the unloading.
    for (kind, n) in [
        (TraceKind::Container, "CSQU3054383"),
        (TraceKind::BillOfLading, "COSU6123456780"),
    ] {
        let idx = index(&chain, kind, n);
        assert_eq!(idx.entries, vec![entry.to_string()]);
    }
    assert_eq!(
        index(&chain, TraceKind::Container, "CSQU3054383")
            .events
            .len(),
        1
    );
}

#[test]
fn corrections_are_error_declarations_by_the_same_capturer_never_edits() {
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        DXTERM,
        BJCUS,
        DAXING_RP,
        "CNPKX",
        LocationFunction::Airport,
    );
    read_point(
        &mut chain,
        PEKTERM,
        BJCUS,
        PEK_RP,
        "CNPEK",
        LocationFunction::Airport,
    );
    chain.at("2026-09-08T13:00");
    let wrong = cargo_event("loading", "2026-09-08T12:00:00+08:00", DAXING_RP, AWB);
    chain.ok(&dept_key(DXTERM), capture(vec![wrong.clone()]));
    let idx = index(&chain, TraceKind::AirWaybill, AWB);
    let hex = idx.events[0].clone();
    let original: LogisticsEvent = chain.get(&logistics::keys::event(&hex)).expect("event");
    let mut declaring = wrong.clone();
    declaring["eventID"] = json!(original.event_id);
    declaring["errorDeclaration"] = json!({
        "declarationTime": "2026-09-08T12:30:00+08:00",
        "reason": "incorrect_data"
    });
    // Another capturer may not declare it.
    chain.refused(
        &dept_key(PEKTERM),
        capture(vec![declaring.clone()]),
        ResultCode::Unauthorised,
    );
    // A "correction" that changes the event is an edit: it repeats no recorded event.
    let mut edited = declaring.clone();
    edited["eventTime"] = json!("2026-09-08T12:10:00+08:00");
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![edited]),
        ResultCode::NotFound,
    );
    // Naming another event in its eventID is refused too.
    let mut misnamed = declaring.clone();
    misnamed["eventID"] = json!(format!("ni:///sha-256;{}?ver=CBV2.0", "0".repeat(64)));
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![misnamed]),
        ResultCode::InvalidArgument,
    );
    chain.ok(&dept_key(DXTERM), capture(vec![declaring.clone()]));
    let c: Correction = chain
        .get(&logistics::keys::correction(&hex))
        .expect("correction");
    assert_eq!(c.event_id, original.event_id);
    assert_eq!(c.declared_by.as_str(), dept_uscc(DXTERM));
    assert!(c.tx.is_some());
    // The original is unchanged, still the one event of the trace, and marked.
    let still: LogisticsEvent = chain.get(&logistics::keys::event(&hex)).expect("event");
    assert_eq!(still, original);
    let idx = index(&chain, TraceKind::AirWaybill, AWB);
    assert_eq!(idx.events.len(), 1);
    let t = trace::timeline(AWB, TraceKind::AirWaybill, &[], &[still], &[c]);
    let whats: Vec<(&str, bool)> = t
        .items
        .iter()
        .map(|i| (i.what.as_str(), i.declared_in_error))
        .collect();
    assert_eq!(whats, [("loading", true), ("ERROR_DECLARATION", false)]);
    // Declared once.
    let mut again = declaring;
    again["errorDeclaration"]["reason"] = json!("did_not_occur");
    chain.refused(
        &dept_key(DXTERM),
        capture(vec![again]),
        ResultCode::AlreadyExists,
    );
}

#[test]
fn r12_facilitation_follows_the_customs_tier_whichever_office_declares() {
    let mut chain = customs_baseline();
    let view = |chain: &Chain, office: &str| {
        let ov = Overlay::new(&chain.state);
        let party = concordat_contracts::ids::Uscc::parse(E5).expect("uscc");
        customs::facilitation(&ov, &party, Some(office))
    };
    let f = view(&chain, "0100");
    assert_eq!(
        (f.tier.as_str(), f.aeo, f.intensified_inspection),
        ("REGULAR", false, false)
    );
    assert_eq!(f.inspection_rate_permille, 50);
    let credit = |c| Call::Credit(c);
    chain.ok(
        &dept_key(BJCUS),
        credit(CreditCall::Evaluate {
            evaluation_id: "AEO-E5".into(),
            party: E5.into(),
            scheme: Scheme::Customs,
            grade: "AEO_ADVANCED".into(),
            score: None,
            period: "2026".into(),
            basis_refs: vec![],
        }),
    );
    chain.ok(
        &dept_key(BJCUS),
        credit(CreditCall::PublishEvaluation {
            evaluation_id: "AEO-E5".into(),
        }),
    );
    for office in ["0100", "0202"] {
        let f = view(&chain, office);
        assert!(f.aeo && !f.intensified_inspection, "{f:?}");
        assert_eq!(f.tier, "AEO_ADVANCED");
        assert_eq!(f.evaluation_id.as_deref(), Some("AEO-E5"));
        assert_eq!(f.inspection_rate_permille, 10);
    }
    // Tianjin customs may record the tier too (any customs department).
    chain.ok(
        &dept_key(TJCUS),
        credit(CreditCall::Evaluate {
            evaluation_id: "CUS-E5-27".into(),
            party: E5.into(),
            scheme: Scheme::Customs,
            grade: "DISHONEST".into(),
            score: None,
            period: "2027".into(),
            basis_refs: vec![],
        }),
    );
    chain.ok(
        &dept_key(TJCUS),
        credit(CreditCall::PublishEvaluation {
            evaluation_id: "CUS-E5-27".into(),
        }),
    );
    let f = view(&chain, "0100");
    assert!(!f.aeo && f.intensified_inspection, "{f:?}");
    assert_eq!(f.inspection_rate_permille, 800);
    // Recorded on the declaration when customs accepts it.
    chain.at("2026-09-08T08:30");
    let e4 = ent_key(E4);
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    chain.ok(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "ACCEPTED", "2026-09-08T08:30:00+08:00"),
    );
    let d = declaration(&chain, ENTRY);
    assert_eq!(d.facilitation.expect("recorded").tier, "DISHONEST");
}

/// The kind-generic walk of `customs_declaration` (see `kinds.rs`): the entry in `status`,
/// its arrival confirmed up front; DRAFT and RELEASED both as ADVANCE and as TWO_STEP.
pub(crate) fn declaration_in(status: &str) -> Vec<Chain> {
    let modes: &[DeclarationMode] = match status {
        "DRAFT" | "RELEASED" => &[DeclarationMode::Advance, DeclarationMode::TwoStep],
        "SUMMARY_SUBMITTED" | "COMPLETE_SUBMITTED" => &[DeclarationMode::TwoStep],
        _ => &[DeclarationMode::Advance],
    };
    let path: &[&str] = match status {
        "DRAFT" => &[],
        "SUBMITTED" | "SUMMARY_SUBMITTED" => &["submit"],
        "ACCEPTED" => &["submit", "ACCEPTED"],
        "REJECTED" => &["submit", "REJECTED"],
        "UNDER_REVIEW" => &["submit", "ACCEPTED", "UNDER_REVIEW"],
        "ASSESSED" => &["submit", "ACCEPTED", "ASSESSED"],
        "INSPECTION" => &["submit", "ACCEPTED", "ASSESSED", "INSPECTION"],
        "DETAINED" => &["submit", "ACCEPTED", "ASSESSED", "INSPECTION", "DETAINED"],
        "RETURNED" | "SEIZED" => &[
            "submit",
            "ACCEPTED",
            "ASSESSED",
            "INSPECTION",
            "DETAINED",
            status,
        ],
        "RELEASED" => &["submit", "ACCEPTED", "ASSESSED", "RELEASED"],
        "COMPLETE_SUBMITTED" => &["submit", "ACCEPTED", "ASSESSED", "RELEASED", "complete"],
        "CLOSED" => &["submit", "ACCEPTED", "ASSESSED", "RELEASED", "CLOSED"],
        other => panic!("no way to {other}"),
    };
    modes
        .iter()
        .map(|mode| {
            let mut chain = customs_baseline();
            chain.at("2026-09-08T08:30");
            chain.ok(
                &ent_key(E4),
                cus(CustomsCall::Save(draft(ENTRY, *mode, "CNPKX", AWB))),
            );
            let now = Instant(chain.time_ms);
            chain.ok(
                &dept_key(BJCUS),
                cus(CustomsCall::ConfirmArrival {
                    entry_id: ENTRY.into(),
                    at: now,
                    basis: "运抵报告".into(),
                }),
            );
            for step in path {
                let m = declaration_moves(&chain)
                    .into_iter()
                    .find(|m| m.name == *step)
                    .expect("a move");
                for (signer, call) in m.txs {
                    chain.ok(&signer, call);
                }
            }
            chain
        })
        .collect()
}

/// Every call that moves a declaration, at the next block's time.
pub(crate) fn declaration_moves(chain: &Chain) -> Vec<crate::kinds::Move> {
    let at = Instant(chain.time_ms);
    let mut moves = vec![
        crate::kinds::mv(
            "submit",
            ent_key(E4),
            cus(CustomsCall::Submit {
                entry_id: ENTRY.into(),
                at,
            }),
        ),
        crate::kinds::mv(
            "complete",
            ent_key(E4),
            cus(CustomsCall::SubmitComplete {
                entry_id: ENTRY.into(),
                at,
            }),
        ),
    ];
    for to in [
        "ACCEPTED",
        "REJECTED",
        "UNDER_REVIEW",
        "ASSESSED",
        "INSPECTION",
        "DETAINED",
        "RELEASED",
        "RETURNED",
        "SEIZED",
        "CLOSED",
    ] {
        moves.push(crate::kinds::mv(
            to,
            dept_key(BJCUS),
            cus(CustomsCall::Decide {
                entry_id: ENTRY.into(),
                to: serde_json::from_value(Value::String(to.into())).expect("status"),
                at,
                basis: String::new(),
            }),
        ));
    }
    moves
}

/// The kind-generic walk of `read_point`.
pub(crate) fn read_point_in(status: &str) -> Vec<Chain> {
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        DXTERM,
        BJCUS,
        DAXING_RP,
        "CNPKX",
        LocationFunction::Airport,
    );
    if status == "RETIRED" {
        for (s, c) in read_point_moves().remove(0).txs {
            chain.ok(&s, c);
        }
    }
    vec![chain]
}

/// Every call that moves a read point.
pub(crate) fn read_point_moves() -> Vec<crate::kinds::Move> {
    vec![crate::kinds::mv(
        "retire",
        dept_key(DXTERM),
        log(LogisticsCall::RetireReadPoint {
            read_point: DAXING_RP.into(),
        }),
    )]
}

#[test]
fn an_arrival_captured_before_the_entry_is_found_when_the_entry_is_lodged() {
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        DXTERM,
        BJCUS,
        DAXING_RP,
        "CNPKX",
        LocationFunction::Airport,
    );
    chain.at("2026-09-08T10:00");
    chain.ok(
        &dept_key(DXTERM),
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            DAXING_RP,
            AWB,
        )]),
    );
    // A STANDARD declaration saved after the goods arrived may be lodged at once.
    let e4 = ent_key(E4);
    chain.at("2026-09-08T10:30");
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Standard,
            "CNPKX",
            AWB,
        ))),
    );
    let d = declaration(&chain, ENTRY);
    assert_eq!(
        d.times.arrival_confirmed_at,
        Some(t("2026-09-08T10:00:00+08:00"))
    );
    chain.ok(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T10:30:00+08:00"),
        }),
    );
    // A draft does not enter the air waybill's index; acceptance does.
    let idx = index(&chain, TraceKind::AirWaybill, AWB);
    assert!(idx.entries.is_empty(), "{idx:?}");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "ACCEPTED", "2026-09-08T10:31:00+08:00"),
    );
    assert_eq!(
        index(&chain, TraceKind::AirWaybill, AWB).entries,
        vec![ENTRY.to_string()]
    );
}

#[test]
fn an_arrival_declared_in_error_is_withdrawn_before_release() {
    let mut chain = customs_baseline();
    read_point(
        &mut chain,
        DXTERM,
        BJCUS,
        DAXING_RP,
        "CNPKX",
        LocationFunction::Airport,
    );
    let e4 = ent_key(E4);
    chain.at("2026-09-08T08:30");
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    chain.ok(
        &e4,
        cus(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    chain.at("2026-09-08T08:40");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "ACCEPTED", "2026-09-08T08:40:00+08:00"),
    );
    chain.at("2026-09-08T10:01");
    let arriving = cargo_event("arriving", "2026-09-08T10:00:00+08:00", DAXING_RP, AWB);
    chain.ok(&dept_key(DXTERM), capture(vec![arriving.clone()]));
    let d = declaration(&chain, ENTRY);
    let event_id = d.arrival_event.clone().expect("confirmed by the event");
    let mut declaring = arriving;
    declaring["eventID"] = json!(event_id);
    declaring["errorDeclaration"] = json!({"declarationTime": "2026-09-08T10:01:00+08:00"});
    chain.ok(&dept_key(DXTERM), capture(vec![declaring]));
    let d = declaration(&chain, ENTRY);
    assert_eq!(d.times.arrival_confirmed_at, None);
    assert!(d.steps.iter().any(|s| s.what == "ARRIVAL_WITHDRAWN"));
    chain.at("2026-09-08T10:50");
    chain.ok(
        &dept_key(BJCUS),
        decide(ENTRY, "ASSESSED", "2026-09-08T10:05:00+08:00"),
    );
    chain.refused(
        &dept_key(BJCUS),
        decide(ENTRY, "RELEASED", "2026-09-08T10:50:00+08:00"),
        ResultCode::InvalidTransition,
    );
}

#[test]
fn business_times_past_year_9999_are_refused_without_a_panic() {
    let mut chain = customs_baseline();
    let e4 = ent_key(E4);
    chain.ok(
        &e4,
        cus(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    for at in [u64::MAX, i64::MAX as u64, 253_402_300_800_000] {
        chain.refused(
            &e4,
            cus(CustomsCall::Submit {
                entry_id: ENTRY.into(),
                at: Instant(at),
            }),
            ResultCode::InvalidArgument,
        );
    }
    // A bill of lading that reads as a container number cannot be traced as one: refused.
    let mut d = draft("010020260000654399", DeclarationMode::Advance, "CNPKX", AWB);
    d.transport_docs.push(TransportDoc {
        kind: TraceKind::BillOfLading,
        number: "CSQU3054383".into(),
    });
    chain.refused(&e4, cus(CustomsCall::Save(d)), ResultCode::BadIdentifier);
}
