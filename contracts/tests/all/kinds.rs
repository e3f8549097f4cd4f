//! Kind-generic tests driven by the registry (`concordat_contracts::kinds`): every stateful
//! kind has a walk here, and the walk takes one record of it from every status through every
//! call that moves it. What the calls do is read back through the registry alone (state key,
//! decoding, status and history fields), so the check is the same for every kind: the moves
//! the calls make are exactly the kind's declared transition table, and each move appends one
//! uniform, time-stamped entry to the record's history. A stateful kind registered without a
//! walk fails here, as does a table entry no call makes or a call that moves outside the table.

use std::collections::BTreeSet;

use concordat_contracts::governance::{GovAction, GovCall, ProposalStatus};
use concordat_contracts::party::PartyCall;
use concordat_contracts::{kinds, Call, ResultCode};
use concordat_primitives::SecretKey;
use concordat_testkit::chain::Chain;
use concordat_testkit::fixture::*;
use serde_json::Value;

use crate::{credit_walk, licence_transitions as lt, transitions as tr};

/// One way a record may move: the block-time advance first, then the calls (all must succeed
/// for the move to count; a refused one ends it).
#[derive(Clone)]
pub(crate) struct Move {
    pub(crate) name: &'static str,
    pub(crate) advance_ms: u64,
    pub(crate) txs: Vec<(SecretKey, Call)>,
}

pub(crate) fn mv(name: &'static str, signer: SecretKey, call: Call) -> Move {
    Move {
        name,
        advance_ms: 0,
        txs: vec![(signer, call)],
    }
}

/// A kind's walk: the record's id, chains with the record in a status (named as the API names
/// it; several where one status is reached in several ways, such as a LIGHT and a GENERAL
/// record), and every move to try from there. A move with no transactions is an empty block:
/// what falls due by then happens by itself.
struct Walk {
    id: &'static str,
    reach: fn(&str) -> Vec<Chain>,
    moves: fn(&Chain) -> Vec<Move>,
}

fn status<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(Value::String(name.into())).expect("a status of the kind")
}

fn walk(kind: &str) -> Option<Walk> {
    Some(match kind {
        "party" => Walk {
            id: E1,
            reach: |s| vec![party_in(s)],
            moves: |_| party_moves(),
        },
        "proposal" => Walk {
            id: "0",
            reach: |s| vec![proposal_in(s)],
            moves: |_| {
                [TJSAMR, SEALS]
                    .map(|d| Move {
                        name: "approve",
                        advance_ms: 0,
                        txs: vec![(
                            dept_key(d),
                            Call::Governance(GovCall::Approve { proposal_id: 0 }),
                        )],
                    })
                    .into_iter()
                    .chain([Move {
                        name: "approve twice",
                        advance_ms: 0,
                        txs: vec![
                            (
                                dept_key(TJSAMR),
                                Call::Governance(GovCall::Approve { proposal_id: 0 }),
                            ),
                            (
                                dept_key(SEALS),
                                Call::Governance(GovCall::Approve { proposal_id: 0 }),
                            ),
                        ],
                    }])
                    .collect()
            },
        },
        "licence" => Walk {
            id: lt::ID,
            reach: |s| vec![lt::licence_in(status(s))],
            moves: |chain| {
                lt::calls(chain)
                    .into_iter()
                    .map(|(name, _, call, signer)| Move {
                        name,
                        advance_ms: if name == "Expire" {
                            lt::TEN_YEARS_MS
                        } else {
                            0
                        },
                        txs: vec![(signer, Call::Licence(call))],
                    })
                    .collect()
            },
        },
        "commitment" => Walk {
            id: "C",
            reach: |s| vec![tr::commitment_in(status(s))],
            moves: |_| {
                vec![
                    mv("fulfil", dept_key(BJSAMR), tr::fulfil()),
                    mv("breach", dept_key(BJSAMR), tr::breach()),
                    mv("withdraw", ent_key(E1), tr::withdraw()),
                ]
            },
        },
        "seal" => Walk {
            id: "ES",
            reach: |s| vec![tr::seal_in(status(s))],
            moves: |_| {
                ["Suspend", "Reactivate", "Revoke", "Expire"]
                    .map(|name| Move {
                        name,
                        advance_ms: if name == "Expire" { 200_000_000_000 } else { 0 },
                        txs: vec![(dept_key(SEALS), tr::seal_call(name))],
                    })
                    .into_iter()
                    .collect()
            },
        },
        "agreement" => Walk {
            id: "A",
            reach: |s| vec![tr::agreement_in(status(s))],
            moves: |_| {
                let sign = || {
                    Call::Recognition(concordat_contracts::recognition::RecognitionCall::Sign {
                        agreement_id: "A".into(),
                    })
                };
                let mut moves = vec![mv("sign", dept_key(TJSAMR), sign())];
                moves.extend(["ACTIVE", "SUSPENDED", "TERMINATED"].map(|to| Move {
                    name: "propose and sign",
                    advance_ms: 0,
                    txs: vec![
                        (dept_key(BJSAMR), tr::change(status(to))),
                        (dept_key(TJSAMR), sign()),
                    ],
                }));
                moves
            },
        },
        "dishonesty" => Walk {
            id: "DR",
            reach: credit_walk::record_in,
            moves: |_| credit_walk::record_moves(),
        },
        "evaluation" => Walk {
            id: "EV",
            reach: credit_walk::evaluation_in,
            moves: |_| credit_walk::evaluation_moves(),
        },
        "bid" => Walk {
            id: "B",
            reach: credit_walk::bid_in,
            moves: |_| credit_walk::bid_moves(),
        },
        "inspection_plan" => Walk {
            id: "DR-W",
            reach: crate::inspection::plan_in,
            moves: |_| crate::inspection::plan_moves(),
        },
        "enforcement_case" => Walk {
            id: "EC-DR-C-1",
            reach: crate::inspection::case_in,
            moves: |_| crate::inspection::case_moves(),
        },
        "inspection_task" => Walk {
            id: "DR-W-1",
            reach: crate::inspection::task_in,
            moves: |_| crate::inspection::task_moves(),
        },
        "list_entry" => Walk {
            id: "E",
            reach: credit_walk::entry_in,
            moves: |_| credit_walk::entry_moves(),
        },
        "customs_declaration" => Walk {
            id: crate::customs::ENTRY,
            reach: crate::customs::declaration_in,
            moves: crate::customs::declaration_moves,
        },
        "read_point" => Walk {
            id: crate::customs::DAXING_RP,
            reach: crate::customs::read_point_in,
            moves: |_| crate::customs::read_point_moves(),
        },
        "person_credential" => Walk {
            id: "PC",
            reach: crate::recognition::person_credential_in,
            moves: |_| crate::recognition::person_credential_moves(),
        },
        "sharing_authorisation" => Walk {
            id: crate::sharing::AUTH,
            reach: crate::sharing::authorisation_in,
            moves: |_| crate::sharing::authorisation_moves(),
        },
        _ => return None,
    })
}

fn party_in(s: &str) -> Chain {
    let mut chain = baseline();
    let path: &[usize] = match s {
        "EXISTING" => &[],
        "REVOKED_LICENCE" => &[0],
        "DEREGISTERED" => &[1],
        "MOVED_OUT" => &[2],
        other => panic!("no way to {other}"),
    };
    for i in path {
        let Move { mut txs, .. } = party_moves().swap_remove(*i);
        let (signer, call) = txs.remove(0);
        chain.ok(&signer, call);
    }
    chain
}

fn party_moves() -> Vec<Move> {
    let samr = || dept_key(BJSAMR);
    vec![
        mv(
            "revoke licence",
            samr(),
            Call::Party(PartyCall::RevokeLicence {
                uscc: E1.into(),
                basis: "京朝市监罚〔2026〕1号".into(),
            }),
        ),
        mv(
            "deregister",
            samr(),
            Call::Party(PartyCall::Deregister {
                uscc: E1.into(),
                basis: "注销登记".into(),
            }),
        ),
        mv(
            "move out",
            samr(),
            Call::Party(PartyCall::MoveOut {
                uscc: E1.into(),
                to_region: "120116".into(),
            }),
        ),
    ]
}

fn proposal_in(s: &str) -> Chain {
    let mut chain = baseline();
    let mut renamed: concordat_contracts::governance::Department = chain
        .get(&concordat_contracts::state::keys::department(&dept_uscc(
            OTHER,
        )))
        .expect("department");
    renamed.name = "renamed".into();
    chain.ok(
        &dept_key(BJSAMR),
        Call::Governance(GovCall::Propose {
            action: GovAction::UpdateDepartment(renamed),
            expires_at_height: chain.height + 50,
        }),
    );
    if status::<ProposalStatus>(s) == ProposalStatus::Executed {
        for d in [TJSAMR, SEALS] {
            chain.ok(
                &dept_key(d),
                Call::Governance(GovCall::Approve { proposal_id: 0 }),
            );
        }
    }
    chain
}

/// The record `kind`/`id` as the API shows it, read through the registry only.
fn record(chain: &Chain, kind: &str, id: &str) -> Value {
    let key = kinds::query_key(kind, id).expect("key");
    let bytes = chain.state.get(&key).expect("the record exists");
    kinds::decode(kind, bytes).expect("decodes")
}

#[test]
fn every_stateful_kind_walks_its_whole_transition_table() {
    let stateful: Vec<_> = kinds::all().filter(|k| k.status.is_some()).collect();
    assert!(stateful.len() >= 7, "{} stateful kinds", stateful.len());
    for spec in stateful {
        let table_of = spec
            .transitions
            .unwrap_or_else(|| panic!("{}: a status but no transition table", spec.name));
        let (status_field, history_field) = (spec.status.expect("status"), spec.history);
        let history_field =
            history_field.unwrap_or_else(|| panic!("{}: a status but no history", spec.name));
        let table: BTreeSet<(String, String)> = table_of().into_iter().collect();
        if table.is_empty() {
            // A kind whose records never move after creation (until its calls land).
            continue;
        }
        let w = walk(spec.name)
            .unwrap_or_else(|| panic!("{}: a stateful kind with no walk in this test", spec.name));
        let froms: BTreeSet<&String> = table.iter().flat_map(|(f, t)| [f, t]).collect();
        let mut made = BTreeSet::new();
        for (from, start) in froms
            .into_iter()
            .flat_map(|f| (w.reach)(f).into_iter().map(move |c| (f, c)))
        {
            let before = record(&start, spec.name, w.id);
            assert_eq!(
                before[status_field],
                from.as_str(),
                "{}: reach {from}",
                spec.name
            );
            let entries = before[history_field].as_array().expect("history").len();
            for m in (w.moves)(&start) {
                let mut chain = start.clone();
                chain.time_ms += m.advance_ms;
                let mut done = true;
                if m.txs.is_empty() {
                    chain.block(&[]);
                }
                for (signer, call) in m.txs {
                    let out = chain.run(&signer, call);
                    done = out.receipts[0].code == ResultCode::Ok;
                    if !done {
                        break;
                    }
                }
                let after = record(&chain, spec.name, w.id);
                let to = after[status_field].as_str().expect("status").to_string();
                if !done || to == *from {
                    continue;
                }
                let history = after[history_field].as_array().expect("history");
                assert_eq!(
                    history.len(),
                    entries + 1,
                    "{} {from} --{}--> {to}: one history entry per move",
                    spec.name,
                    m.name
                );
                let last = &history[entries];
                assert_eq!(last["status"], to.as_str(), "{}: {last}", spec.name);
                assert_eq!(last["at_ms"], chain.time_ms - 1000, "{}: {last}", spec.name);
                assert!(last["by"].is_string(), "{}: {last}", spec.name);
                made.insert((from.clone(), to));
            }
        }
        assert_eq!(
            made, table,
            "{}: the moves the calls make (left) differ from the declared table (right)",
            spec.name
        );
    }
}

#[test]
fn every_stateful_record_starts_its_history_at_creation() {
    let chain = baseline();
    let party = record(&chain, "party", E1);
    let history = party["history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{party}");
    assert_eq!(history[0]["status"], "EXISTING");
    assert_eq!(history[0]["by"], dept_uscc(BJSAMR).as_str());
    let licence = record(&lt::licence_in(status("APPLIED")), "licence", lt::ID);
    assert_eq!(licence["history"][0]["status"], "APPLIED", "{licence}");
    assert_eq!(licence["history"][0]["by"], E1, "{licence}");
}

#[test]
fn a_refused_move_leaves_the_history_as_it_was() {
    let mut chain = tr::seal_in(status("REVOKED"));
    let before = record(&chain, "seal", "ES");
    chain.refused(
        &dept_key(SEALS),
        tr::seal_call("Reactivate"),
        ResultCode::InvalidTransition,
    );
    assert_eq!(record(&chain, "seal", "ES"), before);
}
