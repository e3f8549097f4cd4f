//! The peer-to-peer network: libp2p over TCP, authenticated and encrypted by noise with the
//! node's own ed25519 key, multiplexed by yamux.
//!
//! - Admission: a connection is refused right after the noise handshake unless the peer's
//!   authenticated key is in the current validator set or the configured observer keys
//!   (`libp2p::allow_block_list`). Dialing also names the expected key, so a peer address
//!   cannot be answered by another key.
//! - One request/response protocol, [`PROTOCOL`], carries everything: consensus messages and
//!   block bodies (sent to every connected peer), batches of gossiped transactions, and sync
//!   (`Status`, `GetBlocks`). Every frame is length-prefixed and refused above its limit
//!   before it is read.
//! - Sync: every second each peer is asked for its height; while peers are ahead, blocks and
//!   certificates are fetched from one of them at random ([`MAX_SYNC_BLOCKS`] at a time, at most
//!   [`MAX_SYNC_AHEAD`] beyond the committed tip) and handed to the consensus thread, which
//!   verifies every certificate and re-executes every block.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use concordat_consensus::{CommitCertificate, Message, SignedProposal};
use concordat_contracts::block::Block;
use concordat_primitives::{encoding, Hash, PublicKey, SecretKey};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{allow_block_list, identity, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::bft::NetMsg;
use crate::metrics::Metrics;
use crate::service::{CoreHandle, Outbound, Request};
use crate::store::NodeStore;

/// The protocol name negotiated on every stream.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/concordat/2");
/// Most blocks in one sync response.
pub const MAX_SYNC_BLOCKS: u32 = 64;
/// Most transactions in one gossip batch.
pub const MAX_GOSSIP_TXS: usize = 4096;
/// How often transactions admitted here are flushed to peers.
pub const GOSSIP_FLUSH: Duration = Duration::from_millis(20);
/// How often peers are asked for their height (and missing peers redialled).
pub const STATUS_INTERVAL: Duration = Duration::from_secs(1);
/// Most concurrent streams per connection.
pub const MAX_STREAMS: usize = 64;
/// Sync fetches at most this many blocks beyond what is already committed (backpressure: the
/// consensus thread must apply a batch before much more is fetched).
pub const MAX_SYNC_AHEAD: u64 = 2 * MAX_SYNC_BLOCKS as u64;
/// How long a request may wait for its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A request on the wire (canonical BCS in a length-prefixed frame).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum WireRequest {
    /// A signed proposal or vote.
    Consensus(Message),
    /// A signed proposal with the block it proposes (the body is kept only for a proposal
    /// signed by the round's proposer).
    Proposal(SignedProposal, Box<Block>),
    /// Transactions admitted by the sender, in canonical bytes.
    Txs(Vec<Vec<u8>>),
    /// What is your committed height?
    Status,
    /// Committed blocks with their certificates from `from` on.
    GetBlocks {
        /// First height.
        from: u64,
        /// Most blocks wanted.
        max: u32,
    },
}

/// An answer on the wire.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum WireResponse {
    /// Received.
    Ack,
    /// The responder's committed height and genesis.
    Status {
        /// Committed height.
        height: u64,
        /// Genesis hash (a peer of another chain is dropped).
        genesis: Hash,
    },
    /// Committed blocks with their certificates, consecutive from the requested height.
    Blocks(Vec<(Block, CommitCertificate)>),
}

/// Frames with a size limit in each direction, counting the bytes (`/metrics`).
#[derive(Clone)]
pub struct WireCodec {
    max_request: usize,
    max_response: usize,
    metrics: Arc<Metrics>,
}

impl WireCodec {
    async fn read<T: AsyncRead + Unpin + Send>(
        &self,
        io: &mut T,
        max: usize,
    ) -> io::Result<Vec<u8>> {
        let frame = read_frame(io, max).await?;
        self.metrics
            .p2p_bytes_in
            .fetch_add(frame.len() as u64 + 4, Ordering::Relaxed);
        Ok(frame)
    }

    async fn write<T: AsyncWrite + Unpin + Send>(
        &self,
        io: &mut T,
        bytes: &[u8],
        max: usize,
    ) -> io::Result<()> {
        write_frame(io, bytes, max).await?;
        self.metrics
            .p2p_bytes_out
            .fetch_add(bytes.len() as u64 + 4, Ordering::Relaxed);
        Ok(())
    }
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let n = u32::from_be_bytes(len) as usize;
    if n > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {n} bytes exceeds the limit of {max}"),
        ));
    }
    // Read in pieces, growing the buffer as bytes arrive: a peer that declares a large frame
    // and sends it slowly (or never) holds only what it actually sent, not the declared size.
    let mut buf = Vec::with_capacity(n.min(FRAME_CHUNK));
    io.take(n as u64).read_to_end(&mut buf).await?;
    if buf.len() != n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame of {n} bytes ended after {}", buf.len()),
        ));
    }
    Ok(buf)
}

/// The most bytes reserved for a frame before its bytes arrive.
pub const FRAME_CHUNK: usize = 64 * 1024;

async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
    max: usize,
) -> io::Result<()> {
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame of {} bytes exceeds the limit of {max}", bytes.len()),
        ));
    }
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

fn decode<T: Serialize + serde::de::DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    encoding::from_bytes(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl request_response::Codec for WireCodec {
    type Protocol = StreamProtocol;
    type Request = WireRequest;
    type Response = WireResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&self.read(io, self.max_request).await?)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WireResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&self.read(io, self.max_response).await?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: WireRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write(io, &encoding::to_bytes(&req), self.max_request)
            .await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: WireResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write(io, &encoding::to_bytes(&res), self.max_response)
            .await
    }
}

pub use behaviour::{Behaviour, BehaviourEvent};

#[allow(missing_docs)] // the derive generates an undocumented event enum
mod behaviour {
    use super::{allow_block_list, request_response, NetworkBehaviour, WireCodec};

    /// The libp2p behaviour: the allow list first (it refuses connections), then the protocol.
    #[derive(NetworkBehaviour)]
    pub struct Behaviour {
        /// Admission: only allowed keys stay connected.
        pub allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
        /// The one protocol.
        pub rr: request_response::Behaviour<WireCodec>,
    }
}

/// The libp2p peer id of a node key.
///
/// # Errors
/// If libp2p's ed25519 refuses the key bytes.
pub fn peer_id(key: &PublicKey) -> Result<PeerId, String> {
    let pk = identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .map_err(|e| format!("key {key} is not a libp2p ed25519 key: {e}"))?;
    Ok(identity::PublicKey::from(pk).to_peer_id())
}

fn keypair(key: &SecretKey) -> Result<identity::Keypair, String> {
    identity::Keypair::ed25519_from_bytes(key.seed()).map_err(|e| e.to_string())
}

fn multiaddr(addr: SocketAddr) -> Multiaddr {
    Multiaddr::from(addr.ip()).with(Protocol::Tcp(addr.port()))
}

/// A peer to keep connected: `KEYHEX@IP:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddr {
    /// Its node key (checked by the handshake).
    pub key: PublicKey,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl std::str::FromStr for PeerAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<PeerAddr, String> {
        let (key, addr) = s
            .split_once('@')
            .ok_or_else(|| format!("peer {s:?} is not KEYHEX@IP:PORT"))?;
        let key = PublicKey::from_hex(key).map_err(|e| format!("peer {s:?}: key: {e}"))?;
        let addr = addr
            .parse()
            .map_err(|e| format!("peer {s:?}: address: {e}"))?;
        Ok(PeerAddr { key, addr })
    }
}

/// Network settings (from `[p2p]` in config.toml).
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Peers to keep connected.
    pub peers: Vec<PeerAddr>,
    /// Largest request frame (a block body must fit).
    pub max_message_bytes: usize,
}

impl NetConfig {
    /// Largest response frame (a sync batch).
    pub fn max_response_bytes(&self) -> usize {
        self.max_message_bytes.saturating_mul(2)
    }
}

/// Builds a swarm for `key` that admits only `allowed` keys, counting its bytes in `metrics`.
///
/// # Errors
/// If a key is not usable by libp2p or the transport cannot be built.
pub fn build_swarm(
    key: &SecretKey,
    allowed: &[PublicKey],
    config: &NetConfig,
    metrics: Arc<Metrics>,
) -> Result<libp2p::Swarm<Behaviour>, String> {
    let mut allow = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
    for k in allowed {
        allow.allow_peer(peer_id(k)?);
    }
    let codec = WireCodec {
        max_request: config.max_message_bytes,
        max_response: config.max_response_bytes(),
        metrics,
    };
    let rr = request_response::Behaviour::with_codec(
        codec,
        [(PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_STREAMS),
    );
    let behaviour = Behaviour { allow, rr };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair(key)?)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| format!("transport: {e}"))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| format!("behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

/// The network task: owns the swarm, forwards inbound messages to the consensus thread,
/// sends what the consensus thread hands it, answers sync from the store, and syncs.
pub struct Network {
    swarm: libp2p::Swarm<Behaviour>,
    store: Arc<dyn NodeStore>,
    core: CoreHandle,
    genesis: Hash,
    peers: Vec<(PeerId, Multiaddr)>,
    config: NetConfig,
    metrics: Arc<Metrics>,
    connected: HashSet<PeerId>,
    allowed: HashSet<PeerId>,
    heights: HashMap<PeerId, u64>,
    /// The sync request in flight: its id and first height.
    sync_request: Option<(OutboundRequestId, u64)>,
    delivered: u64,
    pending_txs: Vec<Vec<u8>>,
    pending_bytes: usize,
    /// Each peer's budget of transaction-gossip bytes.
    budgets: HashMap<PeerId, Budget>,
}

/// Bytes of transaction gossip one peer may send per second; it may run up to twice that
/// ahead. Batches beyond it are dropped and counted (`concordat_p2p_budget_dropped_total`):
/// the transactions still reach this node from the other peers and from clients. About 25
/// times what a peer sends at 2,000 transactions a second.
pub const PEER_TX_BYTES_PER_S: u64 = 16 * 1024 * 1024;

/// A token bucket of bytes.
#[derive(Debug, Clone, Copy)]
struct Budget {
    tokens: f64,
    at: std::time::Instant,
}

impl Budget {
    fn new(now: std::time::Instant) -> Budget {
        Budget {
            tokens: 2.0 * PEER_TX_BYTES_PER_S as f64,
            at: now,
        }
    }

    /// Takes `bytes` if the budget has them (refilled for the time since the last take).
    fn take(&mut self, bytes: usize, now: std::time::Instant) -> bool {
        let rate = PEER_TX_BYTES_PER_S as f64;
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * rate;
        self.tokens = (self.tokens + refill).min(2.0 * rate);
        self.at = now;
        if self.tokens >= bytes as f64 {
            self.tokens -= bytes as f64;
            true
        } else {
            false
        }
    }
}

impl Network {
    /// Builds the network and starts listening.
    ///
    /// # Errors
    /// If the swarm cannot be built or the listen address cannot be bound.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &SecretKey,
        allowed: &[PublicKey],
        config: NetConfig,
        store: Arc<dyn NodeStore>,
        core: CoreHandle,
        genesis: Hash,
        metrics: Arc<Metrics>,
    ) -> Result<Network, String> {
        let mut swarm = build_swarm(key, allowed, &config, metrics.clone())?;
        swarm
            .listen_on(multiaddr(config.listen))
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let mut peers = Vec::new();
        for p in &config.peers {
            if p.key != key.public_key() {
                peers.push((peer_id(&p.key)?, multiaddr(p.addr)));
            }
        }
        let allowed = allowed.iter().map(peer_id).collect::<Result<_, _>>()?;
        Ok(Network {
            swarm,
            store,
            core,
            genesis,
            peers,
            config,
            metrics,
            connected: HashSet::new(),
            allowed,
            heights: HashMap::new(),
            sync_request: None,
            delivered: 0,
            pending_txs: Vec::new(),
            pending_bytes: 0,
            budgets: HashMap::new(),
        })
    }

    /// Runs until `outbound` closes (the consensus thread stopped).
    pub async fn run(mut self, mut outbound: mpsc::Receiver<Outbound>) {
        let mut status = tokio::time::interval(STATUS_INTERVAL);
        let mut flush = tokio::time::interval(GOSSIP_FLUSH);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_event(event),
                out = outbound.recv() => match out {
                    Some(out) => self.on_outbound(out),
                    None => return,
                },
                _ = status.tick() => self.on_status_tick(),
                _ = flush.tick() => self.flush_txs(),
            }
        }
    }

    fn tip(&self) -> u64 {
        match self.store.tip() {
            Ok(Some(t)) => t.height,
            Ok(None) => 0,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the tip");
                0
            }
        }
    }

    fn broadcast(&mut self, req: &WireRequest) {
        let peers: Vec<PeerId> = self.connected.iter().copied().collect();
        for p in peers {
            self.swarm.behaviour_mut().rr.send_request(&p, req.clone());
        }
    }

    fn on_outbound(&mut self, out: Outbound) {
        match out {
            Outbound::Consensus(msg) => match *msg {
                NetMsg::Consensus(m) => self.broadcast(&WireRequest::Consensus(m)),
                NetMsg::Proposal { proposal, block } => {
                    self.broadcast(&WireRequest::Proposal(proposal, block))
                }
            },
            Outbound::Tx(bytes) => {
                self.pending_bytes += bytes.len() + 8;
                self.pending_txs.push(bytes);
                if self.pending_txs.len() >= MAX_GOSSIP_TXS
                    || self.pending_bytes >= self.config.max_message_bytes / 2
                {
                    self.flush_txs();
                }
            }
            Outbound::Allow(keys) => self.set_allowed(&keys),
        }
    }

    fn set_allowed(&mut self, keys: &[PublicKey]) {
        let mut next = HashSet::new();
        for k in keys {
            match peer_id(k) {
                Ok(p) => {
                    next.insert(p);
                }
                Err(e) => tracing::warn!(error = %e, "key cannot be admitted"),
            }
        }
        let allow = &mut self.swarm.behaviour_mut().allow;
        for p in self.allowed.difference(&next) {
            // Also closes its connections.
            allow.disallow_peer(*p);
        }
        for p in next.difference(&self.allowed) {
            allow.allow_peer(*p);
        }
        self.allowed = next;
    }

    fn flush_txs(&mut self) {
        if self.pending_txs.is_empty() {
            return;
        }
        let txs = std::mem::take(&mut self.pending_txs);
        self.pending_bytes = 0;
        self.broadcast(&WireRequest::Txs(txs));
    }

    fn on_status_tick(&mut self) {
        for (peer, addr) in self.peers.clone() {
            if !self.connected.contains(&peer) {
                let opts = DialOpts::peer_id(peer)
                    .addresses(vec![addr])
                    .condition(PeerCondition::DisconnectedAndNotDialing)
                    .build();
                if let Err(e) = self.swarm.dial(opts) {
                    tracing::debug!(%peer, error = %e, "dial failed");
                }
            }
        }
        // Sync restarts from what is actually committed (a rejected batch is fetched again).
        self.delivered = self.tip();
        self.broadcast(&WireRequest::Status);
    }

    fn maybe_sync(&mut self) {
        if self.sync_request.is_some() {
            return;
        }
        let tip = self.tip();
        if self.delivered >= tip.saturating_add(MAX_SYNC_AHEAD) {
            return;
        }
        let from = tip.max(self.delivered).saturating_add(1);
        // Any connected peer that is ahead, chosen at random: a peer that claims a height it
        // cannot serve is not picked every time.
        let ahead: Vec<PeerId> = self
            .heights
            .iter()
            .filter(|(p, h)| **h >= from && self.connected.contains(*p))
            .map(|(p, _)| *p)
            .collect();
        if let Some(&peer) = ahead.choose(&mut rand::thread_rng()) {
            let id = self.swarm.behaviour_mut().rr.send_request(
                &peer,
                WireRequest::GetBlocks {
                    from,
                    max: MAX_SYNC_BLOCKS,
                },
            );
            self.sync_request = Some((id, from));
        }
    }

    fn serve_blocks(&self, from: u64, max: u32) -> WireResponse {
        let mut blocks = Vec::new();
        let mut bytes = 0usize;
        let budget = self.config.max_response_bytes() - 1024;
        for h in from..from.saturating_add(u64::from(max.min(MAX_SYNC_BLOCKS))) {
            let (Ok(Some(block)), Ok(Some(cert))) =
                (self.store.block(h), self.store.certificate(h))
            else {
                break;
            };
            let size = encoding::to_bytes(&block).len() + encoding::to_bytes(&cert).len();
            if bytes + size > budget {
                break;
            }
            bytes += size;
            blocks.push((block, cert));
        }
        WireResponse::Blocks(blocks)
    }

    fn to_core(&self, req: Request) {
        if !self.core.send(req) {
            crate::metrics::count_drop(
                &self.metrics.peer_queue_dropped,
                "consensus queue full; peer messages dropped",
            );
        }
    }

    fn on_request(&mut self, peer: PeerId, req: WireRequest) -> WireResponse {
        match req {
            WireRequest::Consensus(m) => {
                self.to_core(Request::Peer(Box::new(NetMsg::Consensus(m))));
            }
            WireRequest::Proposal(proposal, block) => {
                self.to_core(Request::Peer(Box::new(NetMsg::Proposal {
                    proposal,
                    block,
                })))
            }
            WireRequest::Txs(txs) if txs.len() <= MAX_GOSSIP_TXS => {
                let bytes = txs.iter().map(Vec::len).sum();
                let now = std::time::Instant::now();
                let within = self
                    .budgets
                    .entry(peer)
                    .or_insert_with(|| Budget::new(now))
                    .take(bytes, now);
                if within {
                    self.to_core(Request::PeerTxs(txs));
                } else {
                    crate::metrics::count_drop(
                        &self.metrics.peer_budget_dropped,
                        "a peer is over its transaction-gossip budget; its batch is dropped",
                    );
                }
            }
            WireRequest::Txs(txs) => {
                tracing::warn!(count = txs.len(), "oversized transaction batch dropped");
            }
            WireRequest::Status => {
                return WireResponse::Status {
                    height: self.tip(),
                    genesis: self.genesis,
                }
            }
            WireRequest::GetBlocks { from, max } => return self.serve_blocks(from, max),
        }
        WireResponse::Ack
    }

    fn on_response(&mut self, peer: PeerId, id: OutboundRequestId, res: WireResponse) {
        // Whatever the answer, a matching sync request is over.
        let sync_from = match self.sync_request {
            Some((sid, from)) if sid == id => {
                self.sync_request = None;
                Some(from)
            }
            _ => None,
        };
        match res {
            WireResponse::Ack => {}
            WireResponse::Status { height, genesis } => {
                if genesis != self.genesis {
                    tracing::warn!(%peer, %genesis, "peer is on another chain; disconnecting");
                    let _ = self.swarm.disconnect_peer_id(peer);
                    return;
                }
                self.heights.insert(peer, height);
                self.maybe_sync();
            }
            WireResponse::Blocks(blocks) => {
                let Some(from) = sync_from else {
                    return; // not asked for
                };
                // Only consecutive heights from the one asked, and no more than asked.
                let consecutive = blocks
                    .iter()
                    .enumerate()
                    .all(|(i, (b, _))| Some(b.header.height) == from.checked_add(i as u64));
                if !consecutive || blocks.len() > MAX_SYNC_BLOCKS as usize {
                    tracing::warn!(%peer, "malformed sync answer; peer dropped from sync");
                    self.heights.remove(&peer);
                    return;
                }
                match blocks.last() {
                    Some((last, _)) => {
                        self.delivered = self.delivered.max(last.header.height);
                        self.to_core(Request::Synced(blocks));
                        self.maybe_sync();
                    }
                    // It claimed a height it cannot serve: ask it again next second.
                    None => {
                        self.heights.remove(&peer);
                    }
                }
            }
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Rr(ev)) => match ev {
                request_response::Event::Message { peer, message, .. } => match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        let res = self.on_request(peer, request);
                        let _ = self.swarm.behaviour_mut().rr.send_response(channel, res);
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => self.on_response(peer, request_id, response),
                },
                request_response::Event::OutboundFailure {
                    peer,
                    request_id,
                    error,
                    ..
                } => {
                    if matches!(self.sync_request, Some((id, _)) if id == request_id) {
                        self.sync_request = None;
                        self.heights.remove(&peer);
                    }
                    tracing::debug!(%peer, %error, "request failed");
                }
                request_response::Event::InboundFailure { peer, error, .. } => {
                    tracing::debug!(%peer, %error, "inbound request failed");
                }
                request_response::Event::ResponseSent { .. } => {}
            },
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } => {
                if self.connected.insert(peer_id) {
                    tracing::info!(peer = %peer_id, "peer connected");
                }
                let _ = num_established;
                self.metrics
                    .peers
                    .store(self.connected.len() as u64, Ordering::Relaxed);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => {
                if num_established == 0 {
                    self.connected.remove(&peer_id);
                    self.heights.remove(&peer_id);
                    self.budgets.remove(&peer_id);
                    tracing::info!(peer = %peer_id, "peer disconnected");
                }
                self.metrics
                    .peers
                    .store(self.connected.len() as u64, Ordering::Relaxed);
            }
            SwarmEvent::IncomingConnectionError {
                error,
                send_back_addr,
                peer_id,
                ..
            } => {
                if matches!(error, libp2p::swarm::ListenError::Denied { .. }) {
                    // Counted every time; logged at the 1st, 2nd, 4th, 8th... refusal so that
                    // an outside key redialling cannot flood the log.
                    let n = self.metrics.peers_refused.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_power_of_two() {
                        tracing::warn!(addr = %send_back_addr, peer = ?peer_id, refused_total = n, "connection refused: key not in the validator/observer set");
                    } else {
                        tracing::debug!(addr = %send_back_addr, peer = ?peer_id, "connection refused: key not in the validator/observer set");
                    }
                } else {
                    tracing::debug!(addr = %send_back_addr, %error, "incoming connection failed");
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "p2p listening");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_over_its_gossip_budget_is_refused_until_it_refills() {
        let t0 = std::time::Instant::now();
        let mut b = Budget::new(t0);
        let rate = PEER_TX_BYTES_PER_S as usize;
        // The burst: twice the rate at once, then nothing more at that instant.
        assert!(b.take(2 * rate, t0));
        assert!(!b.take(1, t0));
        // Half a second refills half the rate, not more.
        let half = t0 + Duration::from_millis(500);
        assert!(!b.take(rate / 2 + 1024, half));
        assert!(b.take(rate / 2 - 1024, half));
        // Refills are capped at the burst.
        let later = t0 + Duration::from_secs(60);
        assert!(!b.take(2 * rate + 1, later));
        assert!(b.take(2 * rate, later));
    }

    fn frame(declared: u32, body: &[u8]) -> futures::io::Cursor<Vec<u8>> {
        futures::io::Cursor::new([&declared.to_be_bytes()[..], body].concat())
    }

    #[test]
    fn frames_are_read_whole_within_the_limit_and_short_ones_are_refused() {
        futures::executor::block_on(async {
            let body = vec![7u8; 200_000];
            let got = read_frame(&mut frame(200_000, &body), 1 << 20)
                .await
                .expect("a whole frame");
            assert_eq!(got, body);
            // Declared 1 MiB, sent 10 bytes: refused when the stream ends, without having
            // reserved the declared size first.
            let err = read_frame(&mut frame(1 << 20, &[1; 10]), 1 << 20)
                .await
                .expect_err("short");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            let err = read_frame(&mut frame((1 << 20) + 1, &[]), 1 << 20)
                .await
                .expect_err("over the limit");
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        });
    }
}
