//! A small blocking client of the node's HTTP API (`docs/api.md`).

use std::fmt;
use std::time::Duration;

use clap::Args;
use concordat_contracts::SignedTransaction;
use concordat_primitives::PublicKey;
use serde_json::Value;

/// The node's default HTTP address.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:8700";

/// The `--node URL` option.
#[derive(Args, Debug, Clone)]
pub struct NodeArg {
    /// Base URL of the node's HTTP API.
    #[arg(long = "node", value_name = "URL", default_value = DEFAULT_NODE)]
    pub url: String,
}

/// A failure talking to the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeError {
    /// The node answered with an error (`{"error": {"code", "message"}}`).
    Api {
        /// HTTP status.
        status: u16,
        /// The stable error code (e.g. `NONCE_TOO_HIGH`).
        code: String,
        /// The node's message.
        message: String,
    },
    /// No answer (connection refused, timeout, ...).
    Transport {
        /// The URL asked.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// An answer that is not the JSON the API promises.
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Api {
                status,
                code,
                message,
            } => write!(f, "the node refused (HTTP {status} {code}): {message}"),
            NodeError::Transport { url, detail } => {
                write!(f, "cannot reach the node at {url}: {detail}")
            }
            NodeError::BadAnswer { url, detail } => {
                write!(f, "unexpected answer from {url}: {detail}")
            }
        }
    }
}

impl std::error::Error for NodeError {}

/// Percent-encodes one path segment.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A node's HTTP API.
pub struct Node {
    base: String,
    agent: ureq::Agent,
}

impl Node {
    /// A client of the node at `url` (e.g. `http://127.0.0.1:8700`).
    pub fn new(arg: &NodeArg) -> Node {
        Node {
            base: arg.url.trim_end_matches('/').to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                // Longer than the node's longest `?wait=true` (60 s).
                .timeout_read(Duration::from_secs(75))
                .timeout_write(Duration::from_secs(30))
                .build(),
        }
    }

    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> String {
        let mut url = self.base.clone();
        for s in segments {
            url.push('/');
            url.push_str(&segment(s));
        }
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&segment(v));
        }
        url
    }

    fn answer(url: &str, result: Result<ureq::Response, ureq::Error>) -> Result<Value, NodeError> {
        let bad = |detail: String| NodeError::BadAnswer {
            url: url.to_string(),
            detail,
        };
        match result {
            Ok(resp) => resp
                .into_json::<Value>()
                .map_err(|e| bad(format!("not JSON: {e}"))),
            Err(ureq::Error::Status(status, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let err = &body["error"];
                let code = err["code"].as_str().unwrap_or("HTTP_ERROR").to_string();
                let message = err["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| text.chars().take(300).collect());
                Err(NodeError::Api {
                    status,
                    code,
                    message,
                })
            }
            Err(ureq::Error::Transport(t)) => Err(NodeError::Transport {
                url: url.to_string(),
                detail: match t.message() {
                    Some(m) => format!("{}: {m}", t.kind()),
                    None => t.kind().to_string(),
                },
            }),
        }
    }

    /// `GET` a JSON document.
    pub fn get(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Value, NodeError> {
        let url = self.url(segments, query);
        Self::answer(&url, self.agent.get(&url).call())
    }

    /// `POST` a JSON document.
    pub fn post(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        body: &Value,
    ) -> Result<Value, NodeError> {
        let url = self.url(segments, query);
        Self::answer(&url, self.agent.post(&url).send_json(body))
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<Value, NodeError> {
        self.get(&["v1", "status"], &[])
    }

    /// The chain id and tip height from `GET /v1/status`.
    pub fn chain_and_tip(&self) -> Result<(String, u64), NodeError> {
        let st = self.status()?;
        let bad = |what: &str| NodeError::BadAnswer {
            url: self.url(&["v1", "status"], &[]),
            detail: format!("no {what}"),
        };
        let chain_id = st["chain_id"]
            .as_str()
            .ok_or_else(|| bad("chain_id"))?
            .to_string();
        let height = st["height"].as_u64().ok_or_else(|| bad("height"))?;
        Ok((chain_id, height))
    }

    /// The signer's next nonce, from `GET /v1/state/nonce/{pubkey}` (absent: 0).
    pub fn next_nonce(&self, signer: &PublicKey) -> Result<u64, NodeError> {
        let hex = signer.to_hex();
        let answer = self.get(&["v1", "state", "nonce", &hex], &[])?;
        if answer["found"] == Value::Bool(false) {
            return Ok(0);
        }
        if let Some(n) = answer["value"].as_u64() {
            return Ok(n);
        }
        let bytes = answer["value_bytes"]
            .as_str()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok());
        bytes
            .map(u64::from_le_bytes)
            .ok_or_else(|| NodeError::BadAnswer {
                url: self.url(&["v1", "state", "nonce", &hex], &[]),
                detail: "no nonce value".into(),
            })
    }

    /// `POST /v1/txs` with `{"tx": hex}`; with `wait`, `?wait=true` (and `timeout_ms`).
    pub fn submit(
        &self,
        stx: &SignedTransaction,
        wait: bool,
        timeout_ms: Option<u64>,
    ) -> Result<Value, NodeError> {
        let mut query = Vec::new();
        if wait {
            query.push(("wait", "true".to_string()));
            if let Some(t) = timeout_ms {
                query.push(("timeout_ms", t.to_string()));
            }
        }
        let body = serde_json::json!({ "tx": hex::encode(stx.to_bytes()) });
        self.post(&["v1", "txs"], &query, &body)
    }

    /// `POST /v1/epcis/capture`: the document as the body, the signed transaction's envelope
    /// and signature as headers (docs/api.md).
    pub fn capture(
        &self,
        stx: &SignedTransaction,
        document: &str,
        wait: bool,
    ) -> Result<Value, NodeError> {
        let query = if wait {
            vec![("wait", "true".to_string())]
        } else {
            vec![]
        };
        let url = self.url(&["v1", "epcis", "capture"], &query);
        let req = self
            .agent
            .post(&url)
            .set("Content-Type", "application/ld+json")
            .set("Concordat-Signer", &stx.tx.signer.to_hex())
            .set("Concordat-Nonce", &stx.tx.nonce.to_string())
            .set("Concordat-Expiry-Height", &stx.tx.expiry_height.to_string())
            .set("Concordat-Signature", &stx.signature.to_hex());
        Self::answer(&url, req.send_string(document))
    }

    /// `GET /v1/txs/{hash}`.
    pub fn tx(&self, hash: &str) -> Result<Value, NodeError> {
        self.get(&["v1", "txs", hash], &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_encoded() {
        let node = Node::new(&NodeArg {
            url: "http://127.0.0.1:8700/".into(),
        });
        assert_eq!(
            node.url(
                &["v1", "state", "party", "a b/c"],
                &[("height", "7".into())]
            ),
            "http://127.0.0.1:8700/v1/state/party/a%20b%2Fc?height=7"
        );
    }
}
