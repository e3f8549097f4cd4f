//! `config.toml`: every setting with its documented default (see docs/operations.md). A missing
//! file means all defaults; unknown keys are refused.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::core::ConsensusConfig;
use crate::mempool::MempoolConfig;

/// HTTP API settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address of the HTTP API.
    pub listen: SocketAddr,
    /// Largest request body (bytes).
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Peer-to-peer settings (used by the BFT network, issue 4).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Listen address for peers.
    pub listen: SocketAddr,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9700)),
        }
    }
}

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
        let config: Config =
            toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
        if config.log.format != "text" && config.log.format != "json" {
            anyhow::bail!(
                "invalid {}: log.format must be \"text\" or \"json\"",
                path.display()
            );
        }
        if config.consensus.block_interval_ms == 0 {
            anyhow::bail!(
                "invalid {}: consensus.block_interval_ms must be at least 1",
                path.display()
            );
        }
        Ok(config)
    }

    /// The defaults as a commented TOML document.
    pub fn default_toml() -> String {
        let d = Config::default();
        format!(
            "# Concordat node configuration. Every key is optional; these are the defaults.\n\
             \n[http]\n# HTTP API listen address.\nlisten = \"{}\"\n# Largest request body in bytes.\nmax_body_bytes = {}\n\
             \n[p2p]\n# Peer-to-peer listen address (BFT network).\nlisten = \"{}\"\n\
             \n[consensus]\n# How often the node looks for transactions to put in a block (ms).\nblock_interval_ms = {}\n\
             # Most transactions per block.\nmax_block_txs = {}\n# Most transaction bytes per block.\nmax_block_bytes = {}\n\
             \n[mempool]\n# Most pending transactions.\nmax_txs = {}\n# Most pending bytes.\nmax_bytes = {}\n\
             # Most pending transactions per signer (nonce window).\nmax_per_signer = {}\n\
             # Farthest expiry accepted, in blocks ahead.\nmax_expiry_blocks = {}\n\
             \n[log]\n# \"text\" or \"json\".\nformat = \"{}\"\n# tracing filter, e.g. \"info\" or \"concordat_node=debug\".\nlevel = \"{}\"\n",
            d.http.listen, d.http.max_body_bytes, d.p2p.listen, d.consensus.block_interval_ms,
            d.consensus.max_block_txs, d.consensus.max_block_bytes, d.mempool.max_txs, d.mempool.max_bytes,
            d.mempool.max_per_signer, d.mempool.max_expiry_blocks, d.log.format, d.log.level
        )
    }
}
