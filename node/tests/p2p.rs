//! The libp2p transport as the daemon builds it (`net::build_swarm`): a peer whose key is not
//! in the allowed (validator/observer) set is refused right after the noise handshake, while an
//! allowed peer gets its answer; and frames above the limit are refused.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use concordat_node::net::{
    build_swarm, peer_id, BehaviourEvent, NetConfig, WireRequest, WireResponse,
};
use concordat_primitives::Hash;
use futures::StreamExt;
use libp2p::request_response::{Event, Message};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ListenError, SwarmEvent};
use libp2p::{Multiaddr, PeerId};

fn config(max_message_bytes: usize) -> NetConfig {
    NetConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        peers: Vec::new(),
        max_message_bytes,
    }
}

use concordat_testkit::key;

const STATUS: WireResponse = WireResponse::Status {
    height: 7,
    genesis: Hash([9; 32]),
};

struct Counts {
    refused: AtomicU32,
    received: AtomicU32,
}

/// Starts a listener with key 1 admitting only `allowed`; it answers every request with
/// `STATUS`, and counts connections refused at the handshake and requests it received.
async fn listener(allowed: &[u8], max: usize) -> (PeerId, Multiaddr, Arc<Counts>) {
    let me = key(1);
    let keys: Vec<_> = allowed.iter().map(|i| key(*i).public_key()).collect();
    let mut swarm = build_swarm(&me, &keys, &config(max), Default::default()).expect("swarm");
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
        .expect("listen");
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let counts = Arc::new(Counts {
        refused: AtomicU32::new(0),
        received: AtomicU32::new(0),
    });
    let count = counts.clone();
    tokio::spawn(async move {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::Behaviour(BehaviourEvent::Rr(Event::Message {
                    message: Message::Request { channel, .. },
                    ..
                })) => {
                    count.received.fetch_add(1, Ordering::SeqCst);
                    let _ = swarm.behaviour_mut().rr.send_response(channel, STATUS);
                }
                SwarmEvent::IncomingConnectionError {
                    error: ListenError::Denied { .. },
                    ..
                } => {
                    count.refused.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
    });
    (peer_id(&me.public_key()).expect("peer id"), addr, counts)
}

/// Dials `peer` as key `me` (which admits key 1) and sends `req`.
async fn ask(
    me: u8,
    peer: PeerId,
    addr: Multiaddr,
    req: WireRequest,
) -> Result<WireResponse, String> {
    let mut swarm = build_swarm(
        &key(me),
        &[key(1).public_key()],
        &config(1 << 20),
        Default::default(),
    )
    .expect("swarm");
    swarm
        .dial(DialOpts::peer_id(peer).addresses(vec![addr]).build())
        .map_err(|e| e.to_string())?;
    let id = swarm.behaviour_mut().rr.send_request(&peer, req);
    let answer = async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::Behaviour(BehaviourEvent::Rr(Event::Message {
                    message:
                        Message::Response {
                            request_id,
                            response,
                        },
                    ..
                })) if request_id == id => return Ok(response),
                SwarmEvent::Behaviour(BehaviourEvent::Rr(Event::OutboundFailure {
                    request_id,
                    error,
                    ..
                })) if request_id == id => return Err(error.to_string()),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), answer)
        .await
        .unwrap_or_else(|_| Err("no answer within 20 s".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_is_refused_at_the_handshake_and_a_known_one_is_answered() {
    let (peer, addr, counts) = listener(&[2], 1 << 20).await;
    let refused = &counts.refused;

    let known = ask(2, peer, addr.clone(), WireRequest::Status).await;
    assert_eq!(known, Ok(STATUS));
    assert_eq!(refused.load(Ordering::SeqCst), 0);

    let unknown = ask(3, peer, addr, WireRequest::Status).await;
    assert!(
        unknown.is_err(),
        "an unknown key got an answer: {unknown:?}"
    );
    // The refusal is the listener's admission check, not a network accident.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while refused.load(Ordering::SeqCst) == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(refused.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_above_the_limit_is_refused_unread() {
    // The listener takes requests of at most 4 KiB; the dialer allows 1 MiB.
    let (peer, addr, counts) = listener(&[2], 4096).await;
    let small = ask(2, peer, addr.clone(), WireRequest::Txs(vec![vec![0; 100]])).await;
    assert_eq!(small, Ok(STATUS));
    assert_eq!(counts.received.load(Ordering::SeqCst), 1);
    let oversized = WireRequest::Txs(vec![vec![0; 8192]]);
    let big = ask(2, peer, addr, oversized.clone()).await;
    assert!(big.is_err(), "an oversized frame was answered: {big:?}");
    assert_eq!(
        counts.received.load(Ordering::SeqCst),
        1,
        "the oversized request reached the application"
    );
    // Control: the same request is answered by a listener whose limit is 1 MiB, so the
    // refusal above is the frame limit.
    let (peer, addr, roomy) = listener(&[2], 1 << 20).await;
    assert_eq!(ask(2, peer, addr, oversized).await, Ok(STATUS));
    assert_eq!(roomy.received.load(Ordering::SeqCst), 1);
}
