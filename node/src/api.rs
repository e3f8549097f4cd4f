//! The HTTP API (axum), as documented in docs/api.md. Handlers read committed data from the
//! store directly and send submissions to the core thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use concordat_contracts::ids::Uscc;
use concordat_contracts::kinds;
use concordat_contracts::state::keys;
use concordat_primitives::merkle_log;
use concordat_primitives::state;
use concordat_primitives::{encoding, Hash, PublicKey};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::metrics::Metrics;
use crate::service::{CoreHandle, Request};
use crate::store::{NodeStore, TxLocation};

/// Facts about this node for `/v1/status`.
#[derive(Clone)]
pub struct NodeInfo {
    /// Chain id.
    pub chain_id: String,
    /// Genesis hash.
    pub genesis_hash: Hash,
    /// Node key.
    pub node_key: PublicKey,
    /// The browser verifier module, when installed (read once at start).
    pub verifier_wasm: Option<VerifierWasm>,
}

/// The browser verifier module as served: as read, and gzipped once at start for browsers
/// that accept it (the transfer is about 40 % of the module).
#[derive(Clone)]
pub struct VerifierWasm {
    raw: Arc<[u8]>,
    gzip: Arc<[u8]>,
}

impl VerifierWasm {
    /// The module `raw`, compressed once here.
    pub fn new(raw: Vec<u8>) -> std::io::Result<VerifierWasm> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw)?;
        Ok(VerifierWasm {
            gzip: Arc::from(gz.finish()?),
            raw: Arc::from(raw),
        })
    }
}

/// Encoded status lists by (issuer, revocation?), with the height they were built at.
pub type StatusListCache = Arc<crate::credentials::StatusLists>;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Committed data.
    pub store: Arc<dyn NodeStore>,
    /// The core thread.
    pub core: CoreHandle,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Node facts.
    pub info: NodeInfo,
    /// Encoded status lists, rebuilt only when the tip has moved.
    pub status_lists: StatusListCache,
}

/// An API error: status, stable code, message.
pub struct ApiError(pub StatusCode, pub &'static str, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({"error": {"code": self.1, "message": self.2}})),
        )
            .into_response()
    }
}

pub(crate) fn bad_request(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg.into())
}

pub(crate) fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "NOT_FOUND", msg.into())
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string())
}

type ApiResult = Result<Json<Value>, ApiError>;

/// The height a query asks for (default: the tip); 404 above the tip.
fn requested_height(s: &AppState, asked: Option<u64>) -> Result<u64, ApiError> {
    let tip = s
        .store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis"))?;
    let height = asked.unwrap_or(tip.height);
    if height > tip.height {
        return Err(not_found(format!(
            "height {height} is above the tip {}",
            tip.height
        )));
    }
    Ok(height)
}

/// The router.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/verify", get(verify_page))
        .route("/verify/verifier.wasm", get(verifier_wasm))
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route("/v1/txs", post(submit_tx))
        .route("/v1/txs/{hash}", get(get_tx))
        .route("/v1/epcis/capture", post(epcis_capture))
        .route("/v1/blocks/{height}", get(get_block))
        .route("/v1/headers/{height}", get(get_header))
        .route("/v1/validator_changes", get(validator_changes))
        .route("/v1/status_lists/{issuer}/{purpose}", get(status_list))
        .route("/v1/kinds", get(list_kinds))
        .route("/v1/state/{kind}/{id}", get(get_state))
        .route("/v1/eligibility/{uscc}", get(eligibility))
        .route("/v1/governance", get(governance))
        .route("/v1/snapshot/{height}", get(snapshot_meta))
        .route("/v1/snapshot/{height}/entries", get(snapshot_entries))
        .route("/v1/trace/{number}", get(crate::trace_api::get_trace))
        .route(
            "/v1/trace/{number}/epcis",
            get(crate::trace_api::get_trace_epcis),
        )
        .route(
            "/v1/trace/{number}/watch",
            get(crate::trace_api::watch_trace),
        )
        .route("/v1/txlog/consistency", get(txlog_consistency))
        .route("/v1/txlog/{index}", get(txlog_inclusion))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Counts every request by its route pattern and answer status (`/metrics`).
async fn count_requests(
    State(metrics): State<Arc<Metrics>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let resp = next.run(req).await;
    metrics.http_request(&route, resp.status().as_u16());
    resp
}

/// Error answers made by the framework itself (a body over the limit, a malformed path or
/// query, a body that is not UTF-8 or not JSON, an unknown route or method) come as plain
/// text; this rewrites them into the documented `{"error": {"code", "message"}}` form, with
/// the framework's text as the message.
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let code = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "BAD_REQUEST",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        s if s.is_server_error() => "INTERNAL",
        _ => "BAD_REQUEST",
    };
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_string()
    } else {
        text
    };
    ApiError(status, code, message).into_response()
}

async fn index() -> Html<&'static str> {
    Html(include_str!("page.html"))
}

/// The offline verification page: a user drops a bundle file and the browser verifies it with
/// the WASM verifier, against a trust root the user gives. Nothing leaves the browser.
async fn verify_page() -> Html<&'static str> {
    Html(include_str!("verify.html"))
}

/// Whether `Accept-Encoding` names `gzip` with a weight above zero (RFC 9110 §12.5.3).
fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let weight = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
            coding.eq_ignore_ascii_case("gzip") && weight.is_some_and(|w| w > 0.0)
        })
}

async fn verifier_wasm(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let module = s.info.verifier_wasm.clone().ok_or_else(|| {
        not_found(
            "the browser verifier is not installed on this node: build it with \
             scripts/verifier-wasm.sh and set [http] verifier_wasm (docs/operations.md)",
        )
    })?;
    let gzip = accepts_gzip(&headers);
    let vary = (header::VARY, "accept-encoding");
    let wasm = (header::CONTENT_TYPE, "application/wasm");
    Ok(if gzip {
        (
            [wasm, vary, (header::CONTENT_ENCODING, "gzip")],
            module.gzip.to_vec(),
        )
            .into_response()
    } else {
        ([wasm, vary], module.raw.to_vec()).into_response()
    })
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(&s.store.storage_gauges()),
    )
        .into_response()
}

async fn status(State(s): State<AppState>) -> ApiResult {
    let tip = s
        .store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis committed"))?;
    let validator = tip.next_validator_set.index_of(&s.info.node_key).is_some();
    Ok(Json(json!({
        "chain_id": s.info.chain_id, "genesis_hash": s.info.genesis_hash, "height": tip.height,
        "block_hash": tip.block_hash, "state_root": tip.state_root, "tx_log_root": tip.tx_log_root,
        "tx_log_size": tip.tx_log_size, "time_ms": tip.time_ms, "node_key": s.info.node_key,
        "validator": validator, "mempool_size": s.metrics.mempool_size.load(Ordering::Relaxed),
        "app_version": concordat_primitives::ledger::APP_VERSION,
    })))
}

fn committed_json(hash: &Hash, loc: &TxLocation) -> Value {
    json!({"tx_hash": hash, "status": "committed", "height": loc.height, "index": loc.index,
           "log_index": loc.log_index, "result": {"code": loc.code.as_str(), "message": loc.message}})
}

#[derive(Deserialize)]
struct SubmitQuery {
    #[serde(default)]
    wait: bool,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
struct SubmitJson {
    tx: String,
}

async fn submit_tx(
    State(s): State<AppState>,
    Query(q): Query<SubmitQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    submit_bytes(&s, submit_body(is_json, &body)?, &q).await
}

/// The transaction bytes of a `POST /v1/txs` body: the body itself, or with a JSON content
/// type the hex of `{"tx": "<hex>"}`.
pub fn submit_body(is_json: bool, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    if !is_json {
        return Ok(body.to_vec());
    }
    let j: SubmitJson = serde_json::from_slice(body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "MALFORMED",
            format!("expected {{\"tx\": \"<hex>\"}}: {e}"),
        )
    })?;
    hex::decode(j.tx.trim())
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "MALFORMED", "tx is not hex".into()))
}

/// Admits signed transaction bytes and answers as `POST /v1/txs` does (202 pending, or with
/// `wait` 200 once committed).
async fn submit_bytes(s: &AppState, bytes: Vec<u8>, q: &SubmitQuery) -> Result<Response, ApiError> {
    // Subscribe before submitting so that a commit right after admission is not missed.
    let mut commits = s.core.commits.subscribe();
    let (reply, rx) = oneshot::channel();
    if !s.core.send(Request::Submit { bytes, reply }) {
        return Err(ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "MEMPOOL_FULL",
            "the node is overloaded; retry later".into(),
        ));
    }
    let hash = match rx.await {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) => {
            let status = StatusCode::from_u16(e.http).unwrap_or(StatusCode::BAD_REQUEST);
            return Err(ApiError(status, e.code, e.message));
        }
        Err(_) => return Err(internal("the core stopped")),
    };
    if !q.wait {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"tx_hash": hash, "status": "pending"})),
        )
            .into_response());
    }
    let timeout = Duration::from_millis(q.timeout_ms.unwrap_or(10_000).min(60_000));
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(loc) = s.store.tx_location(&hash).map_err(internal)? {
            return Ok((StatusCode::OK, Json(committed_json(&hash, &loc))).into_response());
        }
        match tokio::time::timeout_at(deadline, commits.recv()).await {
            Err(_) => {
                return Err(ApiError(
                    StatusCode::GATEWAY_TIMEOUT,
                    "WAIT_TIMEOUT",
                    format!(
                        "transaction {hash} was admitted but not committed within {} ms",
                        timeout.as_millis()
                    ),
                ))
            }
            Ok(_) => continue,
        }
    }
}

/// The headers that carry a capture's signature (`POST /v1/epcis/capture`).
pub const CAPTURE_HEADERS: [&str; 4] = [
    "concordat-signer",
    "concordat-nonce",
    "concordat-expiry-height",
    "concordat-signature",
];

/// `POST /v1/epcis/capture`: the body is an EPCIS 2.0 JSON-LD `EPCISDocument`, as a port or
/// terminal system writes it; the headers carry the operator's signature of the transaction
/// that captures it (`Logistics.Capture` with the body, byte for byte, as `document`, on this
/// chain, with the signer, nonce and expiry height given): `Concordat-Signer` (public key
/// hex), `Concordat-Nonce`, `Concordat-Expiry-Height`, `Concordat-Signature` (hex). The node
/// rebuilds that transaction and admits it like `POST /v1/txs` (same answers, `?wait=true`).
async fn epcis_capture(
    State(s): State<AppState>,
    Query(q): Query<SubmitQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let stx = capture_tx(
        &s.info.chain_id,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        &body,
    )?;
    submit_bytes(&s, stx.to_bytes(), &q).await
}

/// The capturing transaction of a `POST /v1/epcis/capture`: the EPCIS document in the body,
/// the signer, nonce, expiry and signature from the headers ([`CAPTURE_HEADERS`]).
pub fn capture_tx<'h>(
    chain_id: &str,
    headers: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
) -> Result<concordat_contracts::SignedTransaction, ApiError> {
    let header = |name: &str| -> Result<&str, ApiError> {
        headers(name).map(str::trim).ok_or_else(|| {
                bad_request(format!(
                    "the capture needs the headers {} (the operator's signature of the capturing transaction)",
                    CAPTURE_HEADERS.join(", ")
                ))
            })
    };
    let number = |name: &str| -> Result<u64, ApiError> {
        header(name)?
            .parse()
            .map_err(|_| bad_request(format!("{name} is not a number")))
    };
    let signer = PublicKey::from_hex(header(CAPTURE_HEADERS[0])?)
        .map_err(|e| bad_request(format!("{}: {e}", CAPTURE_HEADERS[0])))?;
    let signature = concordat_primitives::Signature::from_hex(header(CAPTURE_HEADERS[3])?)
        .map_err(|e| bad_request(format!("{}: {e}", CAPTURE_HEADERS[3])))?;
    let document = String::from_utf8(body.to_vec())
        .map_err(|_| bad_request("the EPCIS document is not UTF-8"))?;
    Ok(concordat_contracts::SignedTransaction {
        tx: concordat_contracts::Transaction {
            chain_id: chain_id.to_string(),
            signer,
            nonce: number(CAPTURE_HEADERS[1])?,
            expiry_height: number(CAPTURE_HEADERS[2])?,
            call: concordat_contracts::Call::Logistics(
                concordat_contracts::logistics::LogisticsCall::Capture { document },
            ),
        },
        signature,
    })
}

fn parse_hash(s: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(s).map_err(|_| bad_request(format!("{s:?} is not a 64-hex-character hash")))
}

async fn get_tx(State(s): State<AppState>, Path(hash): Path<String>) -> ApiResult {
    let hash = parse_hash(&hash)?;
    if let Some(loc) = s.store.tx_location(&hash).map_err(internal)? {
        return Ok(Json(committed_json(&hash, &loc)));
    }
    let (reply, rx) = oneshot::channel();
    if s.core.send(Request::IsPending { hash, reply }) && rx.await.unwrap_or(false) {
        return Ok(Json(json!({"tx_hash": hash, "status": "pending"})));
    }
    // It may have been committed between the two looks.
    if let Some(loc) = s.store.tx_location(&hash).map_err(internal)? {
        return Ok(Json(committed_json(&hash, &loc)));
    }
    Err(not_found(format!(
        "transaction {hash} is neither pending nor committed"
    )))
}

pub(crate) fn header_json(s: &AppState, height: u64) -> Result<Value, ApiError> {
    let block = s
        .store
        .block(height)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no block at height {height}")))?;
    let cert = s
        .store
        .certificate(height)
        .map_err(internal)?
        .ok_or_else(|| internal("certificate missing"))?;
    let set = s
        .store
        .validator_set(height)
        .map_err(internal)?
        .ok_or_else(|| internal("validator set missing"))?;
    Ok(json!({
        "height": height, "hash": block.header.hash(), "header": block.header,
        "header_bytes": hex::encode(encoding::to_bytes(&block.header)),
        "certificate": hex::encode(encoding::to_bytes(&cert)),
        "validator_set": hex::encode(encoding::to_bytes(&set)),
    }))
}

async fn get_header(State(s): State<AppState>, Path(height): Path<u64>) -> ApiResult {
    Ok(Json(header_json(&s, height)?))
}

#[derive(Deserialize)]
struct BlockQuery {
    /// Only the transactions' hashes and result codes (no calls, no block bytes): what a
    /// client following commits needs, at a fraction of the cost.
    #[serde(default)]
    summary: bool,
}

async fn get_block(
    State(s): State<AppState>,
    Path(height): Path<u64>,
    Query(q): Query<BlockQuery>,
) -> ApiResult {
    let mut v = header_json(&s, height)?;
    let receipts = s
        .store
        .receipts(height)
        .map_err(internal)?
        .unwrap_or_default();
    if q.summary {
        let txs: Vec<Value> = receipts
            .iter()
            .map(|r| json!({"tx_hash": r.tx_hash, "result": {"code": r.code.as_str()}}))
            .collect();
        v["txs"] = json!(txs);
        return Ok(Json(v));
    }
    let block = s
        .store
        .block(height)
        .map_err(internal)?
        .ok_or_else(|| not_found("no block"))?;
    let txs: Vec<Value> = block
        .txs
        .iter()
        .zip(receipts.iter())
        .map(|(tx, r)| {
            json!({"tx_hash": r.tx_hash, "signer": tx.tx.signer, "nonce": tx.tx.nonce,
                   "expiry_height": tx.tx.expiry_height, "call": tx.tx.call,
                   "result": {"code": r.code.as_str(), "message": r.message}})
        })
        .collect();
    v["block"] = json!(hex::encode(block.to_bytes()));
    v["txs"] = json!(txs);
    Ok(Json(v))
}

/// A licence issuer's Bitstring Status List credential (W3C Bitstring Status List v1.0), derived
/// from the state at the tip: `purpose` is `revocation` (licences that can never be valid again)
/// or `suspension` (02). Unsigned: its bits are the ledger's; a bundle of any licence proves
/// its status independently.
async fn status_list(
    State(s): State<AppState>,
    Path((issuer, purpose)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let issuer = Uscc::parse(&issuer).map_err(|e| bad_request(e.to_string()))?;
    let revocation = match purpose.as_str() {
        "revocation" => true,
        "suspension" => false,
        other => {
            return Err(bad_request(format!(
                "status purpose {other:?}: revocation or suspension"
            )))
        }
    };
    let store = s.store.clone();
    let lists = s.status_lists.clone();
    let who = issuer.clone();
    let (height, encoded) = tokio::task::spawn_blocking(move || {
        lists.encoded(&who, revocation, |h| {
            let view = crate::core::VersionView::new(store.as_ref(), h);
            concordat_contracts::licence::status_list(&view, &who, revocation)
        })
    })
    .await
    .map_err(|e| internal(format!("building the status list: {e}")))?
    .map_err(internal)?;
    let header = crate::store::header(s.store.as_ref(), height)
        .map_err(internal)?
        .ok_or_else(|| internal("status list header missing"))?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let id = format!("http://{host}/v1/status_lists/{issuer}/{purpose}");
    Ok(Json(json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": format!("urn:uscc:{issuer}"),
        "validFrom": concordat_primitives::time::format_rfc3339_ms(header.time_ms, 8 * 60),
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
    })))
}

/// Most changes one `GET /v1/validator_changes` returns (the bundle format's limit).
pub const MAX_CHANGES_PER_ANSWER: usize = 10_000;

#[derive(Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    since: u64,
    until: Option<u64>,
}

/// The validator-set changes a light client follows from `since` (0: genesis; otherwise a
/// waypoint height, whose header is returned as the anchor) to the header at `until`: every
/// height `h` with `since < h < until` whose header names a different next set (indexed in the
/// state under `gov/validator_change_heights`), with that header, its certificate and the new
/// set.
async fn validator_changes(State(s): State<AppState>, Query(q): Query<ChangesQuery>) -> ApiResult {
    let tip = s
        .store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis"))?;
    let until = q.until.unwrap_or(tip.height);
    if until > tip.height || q.since >= until {
        return Err(bad_request(format!(
            "need since < until <= tip ({}); got since {} until {until}",
            tip.height, q.since
        )));
    }
    let store = s.store.clone();
    let heights: Vec<u64> = tokio::task::spawn_blocking(move || {
        let view = crate::core::VersionView::new(store.as_ref(), tip.height);
        concordat_contracts::state::StateView::get(&view, keys::VALIDATOR_CHANGE_HEIGHTS)
            .and_then(|b| encoding::from_bytes::<Vec<u64>>(&b).ok())
            .unwrap_or_default()
    })
    .await
    .map_err(|e| internal(format!("reading the change index: {e}")))?;
    let heights: Vec<u64> = heights
        .into_iter()
        .filter(|h| q.since < *h && *h < until)
        .collect();
    if heights.len() > MAX_CHANGES_PER_ANSWER {
        return Err(bad_request(format!(
            "{} validator-set changes since {}; at most {MAX_CHANGES_PER_ANSWER}: ask from a later waypoint",
            heights.len(),
            q.since
        )));
    }
    let store = s.store.as_ref();
    let set_bytes = |h: u64| -> Result<String, ApiError> {
        let set = store
            .validator_set(h)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("validator set of height {h} missing")))?;
        Ok(hex::encode(encoding::to_bytes(&set)))
    };
    let anchor = if q.since == 0 {
        Value::Null
    } else {
        let h = header_json(&s, q.since)?;
        json!({"height": q.since, "header_bytes": h["header_bytes"], "next_validator_set": set_bytes(q.since + 1)?})
    };
    let mut changes = Vec::with_capacity(heights.len());
    for height in heights {
        let h = header_json(&s, height)?;
        changes.push(json!({
            "height": height, "header_bytes": h["header_bytes"], "certificate": h["certificate"],
            "next_validator_set": set_bytes(height + 1)?,
        }));
    }
    Ok(Json(
        json!({"since": q.since, "until": until, "anchor": anchor, "changes": changes}),
    ))
}

#[derive(Deserialize)]
struct StateQuery {
    #[serde(default)]
    proof: bool,
    height: Option<u64>,
}

fn state_key(kind: &str, id: &str) -> Result<Vec<u8>, ApiError> {
    kinds::query_key(kind, id).map_err(|e| bad_request(e.to_string()))
}

fn decode_value(kind: &str, bytes: &[u8]) -> Value {
    kinds::decode(kind, bytes).unwrap_or(Value::Null)
}

/// `GET /v1/kinds`: the record kinds `GET /v1/state/{kind}/{id}` serves, from the registry.
async fn list_kinds() -> ApiResult {
    let list: Vec<Value> = kinds::all()
        .map(|k| {
            let transitions = k.transitions.map(|t| t());
            let validity = k
                .validity
                .map(|v| json!({"until": v.until, "in_force": v.in_force}));
            json!({"name": k.name, "title": k.title, "id": k.id_rule, "example": k.example,
                   "status_field": k.status, "history_field": k.history,
                   "transitions": transitions, "validity": validity})
        })
        .collect();
    Ok(Json(json!({ "kinds": list })))
}

async fn get_state(
    State(s): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<StateQuery>,
) -> ApiResult {
    let key = state_key(&kind, &id)?;
    let height = requested_height(&s, q.height)?;
    if q.proof && height == 0 {
        return Err(bad_request(
            "proofs are against a signed header: height must be at least 1",
        ));
    }
    let store = s.store.as_ref();
    let (value, proof) = state::get_with_proof(store, &key, height).map_err(internal)?;
    let mut v = json!({
        "kind": kind, "id": id, "height": height, "key": hex::encode(&key), "found": value.is_some(),
        "value": value.as_deref().map(|b| decode_value(&kind, b)).unwrap_or(Value::Null),
        "value_bytes": value.as_deref().map(hex::encode),
    });
    if q.proof {
        let h = header_json(&s, height)?;
        v["proof"] = json!(hex::encode(proof.to_bytes()));
        v["state_root"] = h["header"]["state_root"].clone();
        for f in ["header", "header_bytes", "certificate", "validator_set"] {
            v[f] = h[f].clone();
        }
    }
    Ok(Json(v))
}

#[derive(Deserialize)]
struct EligibilityQuery {
    #[serde(rename = "for")]
    purpose: Option<String>,
    height: Option<u64>,
    office: Option<String>,
}

/// `GET /v1/eligibility/{uscc}?for=procurement|notification_commitment&height=H`: whether the
/// party is barred at height H (default: the tip) and why (R5 or R3, judged on the date of
/// that height's header), every reason naming its basis and the record it read, and the
/// restriction key whose proof (present or absent) backs the answer offline.
/// `for=customs_facilitation[&office=0202]`: R12, the party's customs tier and what it gives,
/// the same for whichever office declares.
async fn eligibility(
    State(s): State<AppState>,
    Path(uscc): Path<String>,
    Query(q): Query<EligibilityQuery>,
) -> ApiResult {
    let party = Uscc::parse(&uscc).map_err(|e| bad_request(e.to_string()))?;
    let purpose = q.purpose.unwrap_or_else(|| "procurement".into());
    let code = match purpose.as_str() {
        "procurement" => "NO_GOV_PROCUREMENT",
        "notification_commitment" => "NO_NOTIFICATION_COMMITMENT",
        "customs_facilitation" => "",
        other => {
            return Err(bad_request(format!(
                "for={other:?}: procurement, notification_commitment or customs_facilitation"
            )))
        }
    };
    if let Some(office) = &q.office {
        concordat_contracts::codes::customs_office(office).map_err(|e| bad_request(e.message))?;
    }
    let tip = s
        .store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis"))?;
    let height = q.height.unwrap_or(tip.height);
    if height > tip.height || height == 0 {
        return Err(not_found(format!(
            "height {height} is not between 1 and the tip {}",
            tip.height
        )));
    }
    let header = crate::store::header(s.store.as_ref(), height)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no header at height {height}")))?;
    let today = concordat_contracts::time::Date::of_ms(header.time_ms);
    let store = s.store.clone();
    let who = party.clone();
    if purpose == "customs_facilitation" {
        let store = s.store.clone();
        let who = party.clone();
        let office = q.office.clone();
        let f = tokio::task::spawn_blocking(move || {
            let view = crate::core::VersionView::new(store.as_ref(), height);
            let state = concordat_contracts::state::Overlay::new(&view);
            concordat_contracts::customs::facilitation(&state, &who, office.as_deref())
        })
        .await
        .map_err(|e| internal(format!("reading the customs tier: {e}")))?;
        return Ok(Json(json!({
            "uscc": party, "for": purpose, "height": height, "date": today.to_string(),
            "facilitation": f,
            "evaluation": {"kind": "party_evaluation", "id": format!("{party}:CUSTOMS")},
        })));
    }
    let procurement = purpose == "procurement";
    let decision = tokio::task::spawn_blocking(move || {
        let view = crate::core::VersionView::new(store.as_ref(), height);
        let state = concordat_contracts::state::Overlay::new(&view);
        if procurement {
            concordat_contracts::rules::r5_procurement_eligibility::procurement(&state, &who, today)
        } else {
            concordat_contracts::rules::r3_nc_eligibility::assess(&state, &who, today)
        }
    })
    .await
    .map_err(|e| internal(format!("judging eligibility: {e}")))?;
    Ok(Json(json!({
        "uscc": party, "for": purpose, "height": height, "date": today.to_string(),
        "eligible": decision.eligible, "bars": decision.bars, "flags": decision.flags,
        "restriction": {"kind": "restriction", "id": format!("{party}:{code}")},
    })))
}

/// `GET /v1/snapshot/{height}`: what a joining node needs besides the state entries: the
/// signed header, the validator set that signed it and the next one, and the transaction log's
/// frontier (docs/adr/0023-joining-from-a-snapshot.md).
async fn snapshot_meta(State(s): State<AppState>, Path(height): Path<u64>) -> ApiResult {
    if height == 0 {
        return Err(bad_request(
            "a snapshot is of a height above 0 (genesis is the genesis file)",
        ));
    }
    let mut v = header_json(&s, height)?;
    let tip = s
        .store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis"))?;
    let next = if height == tip.height {
        tip.next_validator_set
    } else {
        s.store
            .validator_set(height + 1)
            .map_err(internal)?
            .ok_or_else(|| internal("validator set missing"))?
    };
    // The header `header_json` read names the log's size.
    let size = v["header"]["tx_log_size"]
        .as_u64()
        .ok_or_else(|| internal("the header has no tx_log_size"))?;
    let store = s.store.as_ref();
    let frontier = merkle_log::frontier(size)
        .into_iter()
        .map(|(level, index)| {
            store
                .perfect_node(level, index)
                .map(|h| h.to_hex())
                .ok_or_else(|| internal(format!("log node ({level}, {index}) missing")))
        })
        .collect::<Result<Vec<String>, ApiError>>()?;
    v["genesis_hash"] = json!(s.info.genesis_hash);
    v["next_validator_set"] = json!(hex::encode(encoding::to_bytes(&next)));
    v["log_frontier"] = json!(frontier);
    Ok(Json(v))
}

#[derive(Deserialize)]
struct EntriesQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/snapshot/{height}/entries?after=KEY_HASH&limit=N`: a page of the state at the
/// height, in key-hash order: `[key hash, value]` pairs after `after` (default: from the
/// first), at most `limit` (default and most 10,000); `next_after` is the last key hash, or
/// null at the end.
async fn snapshot_entries(
    State(s): State<AppState>,
    Path(height): Path<u64>,
    Query(q): Query<EntriesQuery>,
) -> ApiResult {
    let max = state::snapshot::MAX_PAGE_ENTRIES;
    let limit = q.limit.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(bad_request(format!("limit must be between 1 and {max}")));
    }
    let after = match &q.after {
        None => None,
        Some(h) => {
            Some(Hash::from_hex(h).map_err(|_| bad_request("after must be a key hash (64 hex)"))?)
        }
    };
    let height = requested_height(&s, Some(height))?;
    let store = s.store.clone();
    let page = tokio::task::spawn_blocking(move || {
        state::snapshot::entries(store.as_ref(), height, after, limit)
    })
    .await
    .map_err(|e| internal(format!("reading the snapshot: {e}")))?
    .map_err(|e| not_found(format!("no state at height {height}: {e}")))?;
    let next = (page.len() == limit).then(|| page.last().map(|(k, _)| k.to_hex()));
    let entries: Vec<[String; 2]> = page
        .iter()
        .map(|(k, v)| [k.to_hex(), hex::encode(v)])
        .collect();
    Ok(Json(
        json!({"height": height, "entries": entries, "next_after": next.flatten()}),
    ))
}

#[derive(Deserialize)]
struct GovernanceQuery {
    open: Option<bool>,
    limit: Option<usize>,
    before: Option<u64>,
    height: Option<u64>,
}

/// `GET /v1/governance?open=true&limit=50&before=ID&height=H`: departments with their roles
/// and validator power, the roster, and a page of proposals (newest first) with their
/// approvals, the approvals they need and the departments yet to approve.
async fn governance(State(s): State<AppState>, Query(q): Query<GovernanceQuery>) -> ApiResult {
    let limit = q.limit.unwrap_or(50);
    let max = concordat_contracts::governance::MAX_OVERVIEW_PROPOSALS;
    if limit == 0 || limit > max {
        return Err(bad_request(format!("limit must be between 1 and {max}")));
    }
    let height = requested_height(&s, q.height)?;
    let store = s.store.clone();
    let open = q.open.unwrap_or(false);
    let before = q.before;
    let overview = tokio::task::spawn_blocking(move || {
        let view = crate::core::VersionView::new(store.as_ref(), height);
        let state = concordat_contracts::state::Overlay::new(&view);
        concordat_contracts::governance::overview(&state, height, open, limit, before)
    })
    .await
    .map_err(|e| internal(format!("reading governance: {e}")))?;
    let mut v = serde_json::to_value(&overview).map_err(internal)?;
    v["height"] = json!(height);
    Ok(Json(v))
}

#[derive(Deserialize)]
struct InclusionQuery {
    size: Option<u64>,
}

async fn txlog_inclusion(
    State(s): State<AppState>,
    Path(index): Path<u64>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult {
    let store = s.store.as_ref();
    let log_size = store.size();
    let size = q.size.unwrap_or(log_size);
    if size > log_size || index >= size {
        return Err(not_found(format!(
            "index {index} / size {size} outside the log of {log_size}"
        )));
    }
    let proof = merkle_log::prove_inclusion(store, index, size).map_err(internal)?;
    let root = merkle_log::root_at(store, size).map_err(internal)?;
    // Find the record: the leaf is rebuilt from the tx index via the block receipts.
    let record = find_log_record(store, index)?;
    Ok(Json(json!({
        "index": index, "size": size, "leaf": hex::encode(record.leaf_bytes()),
        "record": {"tx_hash": record.tx_hash, "code": record.code.as_str(), "height": record.height},
        "proof": proof.hashes, "root": root,
    })))
}

pub(crate) fn find_log_record(
    store: &dyn NodeStore,
    index: u64,
) -> Result<concordat_contracts::executor::TxLogRecord, ApiError> {
    // Binary search the block whose log range holds `index` (sizes grow with height).
    let tip = store
        .tip()
        .map_err(internal)?
        .ok_or_else(|| internal("no genesis"))?;
    let (mut lo, mut hi) = (1u64, tip.height);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let size = store
            .block(mid)
            .map_err(internal)?
            .map(|b| b.header.tx_log_size)
            .unwrap_or(0);
        if size > index {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let block = store
        .block(lo)
        .map_err(internal)?
        .ok_or_else(|| not_found("no such log entry"))?;
    let receipts = store.receipts(lo).map_err(internal)?.unwrap_or_default();
    let first = block.header.tx_log_size - receipts.len() as u64;
    let r = receipts
        .get((index - first) as usize)
        .ok_or_else(|| internal("log index and receipts disagree"))?;
    Ok(r.log_record(lo))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

async fn txlog_consistency(
    State(s): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult {
    let store = s.store.as_ref();
    let to = q.to.unwrap_or(store.size());
    if q.from > to || to > store.size() {
        return Err(bad_request(format!("need from <= to <= {}", store.size())));
    }
    let proof = merkle_log::prove_consistency(store, q.from, to).map_err(internal)?;
    Ok(Json(json!({
        "from": q.from, "to": to,
        "from_root": merkle_log::root_at(store, q.from).map_err(internal)?,
        "to_root": merkle_log::root_at(store, to).map_err(internal)?,
        "proof": proof.hashes,
    })))
}
