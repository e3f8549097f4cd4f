//! `config.toml`: every setting with its documented default (see docs/operations.md). A missing
//! file means all defaults; unknown keys are refused.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use concordat_primitives::PublicKey;

use crate::core::ConsensusConfig;
use crate::mempool::MempoolConfig;
use crate::net::PeerAddr;

/// HTTP API settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address of the HTTP API.
    pub listen: SocketAddr,
    /// Largest request body (bytes).
    pub max_body_bytes: usize,
    /// The browser verifier module served at `/verify/verifier.wasm` (built with
    /// `cargo build --target wasm32-unknown-unknown --profile wasm -p concordat-verifier-wasm`).
    /// Unset: `$CONCORDAT_VERIFIER_WASM`, then `concordat_verifier_wasm.wasm` next to the
    /// `concordat-node` executable.
    pub verifier_wasm: Option<std::path::PathBuf>,
    /// Most HTTP connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a request's complete headers within this time (ms), or its
    /// connection is closed; this also closes connections that stay idle.
    pub header_read_timeout_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            max_body_bytes: 1024 * 1024,
            verifier_wasm: None,
            max_connections: 512,
            header_read_timeout_ms: 10_000,
        }
    }
}

impl HttpConfig {
    /// Where the browser verifier module is, if anywhere.
    pub fn verifier_wasm_path(&self) -> Option<std::path::PathBuf> {
        self.verifier_wasm
            .clone()
            .or_else(|| std::env::var_os("CONCORDAT_VERIFIER_WASM").map(Into::into))
            .or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|e| e.parent().map(|d| d.join("concordat_verifier_wasm.wasm")))
            })
            .filter(|p| p.is_file())
    }
}

/// Peer-to-peer settings (the BFT network, see `net`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Listen address for peers.
    pub listen: SocketAddr,
    /// Peers to keep connected, as `KEYHEX@IP:PORT` (the key is checked by the handshake).
    pub peers: Vec<String>,
    /// Keys of observer nodes admitted besides the validators.
    pub observers: Vec<String>,
    /// Largest peer message in bytes (a block body must fit; sync answers get twice this).
    pub max_message_bytes: usize,
}

impl P2pConfig {
    /// The peers, parsed.
    ///
    /// # Errors
    /// On the first entry that is not `KEYHEX@IP:PORT`.
    pub fn peer_addrs(&self) -> Result<Vec<PeerAddr>, String> {
        self.peers.iter().map(|p| p.parse()).collect()
    }

    /// The observer keys, parsed.
    ///
    /// # Errors
    /// On the first entry that is not a key.
    pub fn observer_keys(&self) -> Result<Vec<PublicKey>, String> {
        self.observers
            .iter()
            .map(|k| PublicKey::from_hex(k).map_err(|e| format!("observer {k:?}: {e}")))
            .collect()
    }
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9700)),
            peers: Vec::new(),
            observers: Vec::new(),
            max_message_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Room for a block's header and framing on top of its transaction bytes.
pub const P2P_OVERHEAD: usize = 1024 * 1024;
/// The empty-block wait stays below the 3 s propose timeout, so peers do not time out on an
/// idle proposer.
pub const MAX_EMPTY_BLOCK_INTERVAL_MS: u64 = 2_000;

/// Log settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter, e.g. `info` or `concordat_node=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP API.
    pub http: HttpConfig,
    /// Peer-to-peer network.
    pub p2p: P2pConfig,
    /// Block production.
    pub consensus: ConsensusConfig,
    /// Mempool limits.
    pub mempool: MempoolConfig,
    /// Logging.
    pub log: LogConfig,
}

impl Config {
    /// Reads `home/config.toml`, or the defaults when it does not exist.
    pub fn load(home: &Path) -> Result<Config> {
        let path = home.join("config.toml");
        if !path.exists() {
            return Ok(Config::default());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and checks the text of a configuration file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).with_context(|| format!("invalid {origin}"))?;
        if config.log.format != "text" && config.log.format != "json" {
            anyhow::bail!("invalid {origin}: log.format must be \"text\" or \"json\"");
        }
        if config.consensus.block_interval_ms == 0 {
            anyhow::bail!("invalid {origin}: consensus.block_interval_ms must be at least 1");
        }
        let invalid = |msg: String| anyhow::anyhow!("invalid {origin}: {msg}");
        config
            .p2p
            .peer_addrs()
            .map_err(|e| invalid(format!("p2p.peers: {e}")))?;
        config
            .p2p
            .observer_keys()
            .map_err(|e| invalid(format!("p2p.observers: {e}")))?;
        if config.consensus.max_block_bytes + P2P_OVERHEAD > config.p2p.max_message_bytes {
            return Err(invalid(format!(
                "p2p.max_message_bytes ({}) must exceed consensus.max_block_bytes ({}) by at least {P2P_OVERHEAD}",
                config.p2p.max_message_bytes, config.consensus.max_block_bytes
            )));
        }
        if config.consensus.empty_block_interval_ms > MAX_EMPTY_BLOCK_INTERVAL_MS {
            return Err(invalid(format!(
                "consensus.empty_block_interval_ms must be at most {MAX_EMPTY_BLOCK_INTERVAL_MS} (below the propose timeout)"
            )));
        }
        Ok(config)
    }

    /// The defaults as a commented TOML document.
    pub fn default_toml() -> String {
        let d = Config::default();
        format!(
            "# Concordat node configuration. Every key is optional; these are the defaults.\n\
             \n[http]\n# HTTP API listen address.\nlisten = \"{}\"\n# Largest request body in bytes.\nmax_body_bytes = {}\n\
             # Most HTTP connections open at once (more wait in the listen backlog).\nmax_connections = {}\n\
             # A client must send complete request headers within this time, idle connections included (ms).\nheader_read_timeout_ms = {}\n\
             \n[p2p]\n# Peer-to-peer listen address (BFT network).\nlisten = \"{}\"\n\
             # Peers to keep connected: \"KEYHEX@IP:PORT\" (the handshake checks the key).\npeers = []\n\
             # Observer node keys admitted besides the validators.\nobservers = []\n\
             # Largest peer message in bytes (must exceed consensus.max_block_bytes by 1 MiB).\nmax_message_bytes = {}\n\
             \n[consensus]\n# How often the node checks for owed proposals and expired transactions (ms).\nblock_interval_ms = {}\n\
             # An idle proposer waits this long for a transaction before proposing an empty block (ms).\nempty_block_interval_ms = {}\n\
             # With nothing to commit, an empty block at most this often (ms; 0: every empty_block_interval_ms).\nidle_block_interval_ms = {}\n\
             # Most transactions per block.\nmax_block_txs = {}\n# Most transaction bytes per block.\nmax_block_bytes = {}\n\
             \n[mempool]\n# Most pending transactions.\nmax_txs = {}\n# Most pending bytes.\nmax_bytes = {}\n\
             # Most pending transactions per signer (nonce window).\nmax_per_signer = {}\n\
             # Farthest expiry accepted, in blocks ahead.\nmax_expiry_blocks = {}\n\
             \n[log]\n# \"text\" or \"json\".\nformat = \"{}\"\n# tracing filter, e.g. \"info\" or \"concordat_node=debug\".\nlevel = \"{}\"\n",
            d.http.listen, d.http.max_body_bytes, d.http.max_connections,
            d.http.header_read_timeout_ms, d.p2p.listen, d.p2p.max_message_bytes,
            d.consensus.block_interval_ms, d.consensus.empty_block_interval_ms,
            d.consensus.idle_block_interval_ms,
            d.consensus.max_block_txs, d.consensus.max_block_bytes, d.mempool.max_txs, d.mempool.max_bytes,
            d.mempool.max_per_signer, d.mempool.max_expiry_blocks, d.log.format, d.log.level
        )
    }
}
