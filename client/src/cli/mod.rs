//! Command-line parsing and dispatch.

mod credential_cmd;
mod demo_cmd;
mod files;
mod genesis_cmd;
mod gov_cmd;
mod http;
mod keys_cmd;
mod proof_cmd;
mod query_cmd;
mod seal_cmd;
mod snapshot_cmd;
mod trace_cmd;
mod tx_cmd;

use std::fmt;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// One JSON document on stdout.
    Json,
}

#[derive(Parser, Debug)]
#[command(
    name = "concordat",
    version,
    about = "Concordat client: keys, genesis, transactions, proofs"
)]
struct Cli {
    /// Output format.
    #[arg(long, value_enum, global = true, default_value = "text")]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

/// `concordat inspection …`.
#[derive(Subcommand, Debug)]
enum InspectionCmd {
    /// Recompute a drawn plan's tasks from its revealed seed and stored pools, each record
    /// verified against a signed header, and compare them with the ledger's.
    Draw {
        /// The plan id.
        plan_id: String,
        /// Verify (the only mode: draws are made by the plan's `Draw` call).
        #[arg(long)]
        verify: bool,
        #[command(flatten)]
        node: http::NodeArg,
    },
}

/// `concordat snapshot …`.
#[derive(Subcommand, Debug)]
enum SnapshotCmd {
    /// Fetch the state of a certified height (default: the tip) from a node, verify the
    /// height's header from the genesis file (the light-client rule) and the state against
    /// the header's state root, and write a file for `concordat-node --import-snapshot`.
    Fetch {
        #[command(flatten)]
        node: http::NodeArg,
        /// The chain's genesis.json.
        #[arg(long)]
        genesis: PathBuf,
        /// The height (default: the node's tip).
        #[arg(long)]
        height: Option<u64>,
        /// Where to write the snapshot.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `concordat epcis …`.
#[derive(Subcommand, Debug)]
enum EpcisCmd {
    /// Capture an EPCIS 2.0 JSON-LD EPCISDocument (as port and terminal systems produce it):
    /// every event is checked and recorded, or none; `-` reads standard input.
    Capture {
        /// The document file.
        file: PathBuf,
        /// The operator's key file (a member key of the read points' operator).
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        node: http::NodeArg,
        /// Wait until the capture is committed.
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create and inspect ed25519 key files.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCmd),
    /// Create, fill in and validate a genesis file.
    #[command(subcommand)]
    Genesis(genesis_cmd::GenesisCmd),
    /// Show the node's status (GET /v1/status).
    Status {
        #[command(flatten)]
        node: http::NodeArg,
    },
    /// Sign, submit and look up transactions.
    #[command(subcommand)]
    Tx(tx_cmd::TxCmd),
    /// Make an offline proof bundle: a record (present, or proven absent), a committed
    /// transaction (`tx HASH`) or the log's consistency (`consistency EARLIER_HEIGHT`), with the
    /// validator-set changes since the trust root (docs/bundle.md).
    Proof {
        /// A query kind (see `query`), `tx` or `consistency`.
        kind: String,
        /// The record id; a transaction hash for `tx`; the earlier height for `consistency`.
        id: String,
        #[command(flatten)]
        node: http::NodeArg,
        /// Height to prove at (default: the tip).
        #[arg(long)]
        height: Option<u64>,
        /// The waypoint height the verifier trusts (default 0: the genesis file).
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
        /// Binary (canonical bytes) or JSON-wrapped.
        #[arg(long, value_enum, default_value = "binary")]
        format: proof_cmd::BundleFormat,
        /// Bundle format version: 2, the compact form, or 1, the full form older verifiers
        /// read (docs/bundle.md).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=2))]
        bundle_version: u16,
    },
    /// Export a licence as a W3C Verifiable Credential 2.0 with Bitstring Status List entries
    /// and its proof bundle as evidence (docs/credentials.md).
    Credential {
        /// `licence`.
        kind: String,
        /// The licence id.
        id: String,
        #[command(flatten)]
        node: http::NodeArg,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a bundle offline against a trust root: a genesis file or HEIGHT:HEADER_HASH.
    /// Exit 0 and `{"valid":true,...}` when it holds.
    Verify {
        /// The bundle file.
        file: PathBuf,
        /// genesis.json, or a waypoint HEIGHT:HEADER_HASH.
        #[arg(long)]
        trust: String,
        /// For a record that keeps a status history: also report its status at this time
        /// (RFC 3339, e.g. 2026-05-06T10:00:00+08:00), from the proven history.
        #[arg(long)]
        at: Option<String>,
        /// Refuse a bundle whose header is older than this many days (your policy on stale
        /// proofs: a status may have changed since).
        #[arg(long)]
        max_age_days: Option<u64>,
    },
    /// Whether a party is barred from procurement (R5) or from the notification-commitment
    /// route (R3), and why; with `--bundle-dir`, offline bundles of the restriction and of
    /// every record a reason names.
    Eligibility {
        /// The party's USCC.
        uscc: String,
        /// `procurement` or `notification_commitment`.
        #[arg(long = "for", default_value = "procurement")]
        purpose: String,
        #[command(flatten)]
        node: http::NodeArg,
        /// Height to judge at (default: the tip).
        #[arg(long)]
        height: Option<u64>,
        /// Write the bundles here.
        #[arg(long)]
        bundle_dir: Option<PathBuf>,
    },
    /// Double-random inspections: `draw PLAN --verify` recomputes a published draw offline
    /// from the ledger's verified data.
    #[command(subcommand)]
    Inspection(InspectionCmd),
    /// Seal signing keys (SM2) and seal signatures over documents, for `tx send`; checking a
    /// document against a recorded signature.
    #[command(subcommand)]
    Seal(seal_cmd::SealCmd),
    /// A time-stamping authority's side: stamp a seal signature call with a token.
    #[command(subcommand)]
    Tsa(seal_cmd::TsaCmd),
    /// Governance: list proposals and who has approved, propose one or several actions,
    /// approve.
    #[command(subcommand)]
    Gov(gov_cmd::GovCmd),
    /// State snapshots for a node that joins without replaying from genesis.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// Read a record with a proof and verify it (header, certificate, proof) before showing it.
    Query {
        /// A kind of `GET /v1/kinds` (party, licence, seal, dishonesty, list_entry,
        /// restriction, bid, raw…).
        kind: String,
        /// USCC (party, department, party_*); `current`; a proposal id or policy version; a
        /// signer public key (hex); a record id (licence, commitment, seal...); USCC:TYPE for
        /// reapply_bar; a state key (hex).
        id: String,
        #[command(flatten)]
        node: http::NodeArg,
        /// Height to read at (default: the tip).
        #[arg(long)]
        height: Option<u64>,
        /// Hash of a validator set you trust; the answer's header must be signed by it.
        #[arg(long)]
        validator_set_hash: Option<String>,
    },
    /// The "Customs Clearance + Logistics" timeline of an entry number, bill of lading, air
    /// waybill or container number: declaration steps and EPCIS events in time order with the
    /// clearance time and SLA result, every record and transaction verified first.
    Trace {
        /// The number (18-digit entry, B/L, PPP-SSSSSSSC air waybill, ISO 6346 container).
        number: String,
        #[command(flatten)]
        node: http::NodeArg,
        /// Height to read at (default: the tip).
        #[arg(long)]
        height: Option<u64>,
        /// Hash of a validator set you trust; the answer's header must be signed by it.
        #[arg(long)]
        validator_set_hash: Option<String>,
        /// A trust root (genesis.json, or a waypoint HEIGHT:HEADER_HASH): the answer is also
        /// checked as offline bundles against it, following every validator-set change.
        #[arg(long)]
        trust: Option<String>,
        /// Also write the whole timeline as offline bundles here (see `verify-trace`).
        #[arg(long)]
        bundle_dir: Option<PathBuf>,
        /// Also write the events as an EPCIS 2.0 JSON-LD document to this file.
        #[arg(long)]
        epcis: Option<PathBuf>,
    },
    /// EPCIS 2.0 logistics events.
    #[command(subcommand)]
    Epcis(EpcisCmd),
    /// Verify a trace written by `trace --bundle-dir` offline, against a trust root.
    VerifyTrace {
        /// The directory with trace.json and the bundles.
        dir: PathBuf,
        /// genesis.json, or a waypoint HEIGHT:HEADER_HASH.
        #[arg(long)]
        trust: String,
    },
    /// Smoke test: register N demo enterprises with a demo network's REGISTRAR key and wait
    /// for them.
    Demo {
        #[command(flatten)]
        node: http::NodeArg,
        /// The demo network's directory (with keys/<USCC>.key), e.g. .localnet.
        #[arg(long)]
        home: PathBuf,
        /// Number of registrations.
        #[arg(long, default_value_t = 10)]
        count: u64,
        /// How long to wait for all of them to commit.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
    },
    /// Print a shell completion script, e.g. `concordat completions bash >
    /// /etc/bash_completion.d/concordat` (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// A failure whose output was already printed: only the message goes to stderr.
#[derive(Debug)]
pub struct Reported(pub String);

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Reported {}

/// Prints `value` as JSON, or `text` for people.
pub fn emit(output: Output, value: &serde_json::Value, text: &str) {
    match output {
        Output::Json => println!("{value}"),
        Output::Text => println!("{text}"),
    }
}

/// Runs the CLI and returns the process exit code (0 ok, 1 refused input, 2 usage).
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Keys(c) => keys_cmd::run(c, cli.output),
        Command::Genesis(c) => genesis_cmd::run(c, cli.output),
        Command::Status { node } => query_cmd::status(&node, cli.output),
        Command::Tx(c) => tx_cmd::run(c, cli.output),
        Command::Seal(c) => seal_cmd::run(c, cli.output),
        Command::Tsa(c) => seal_cmd::run_tsa(c, cli.output),
        Command::Gov(c) => gov_cmd::run(c, cli.output),
        Command::Snapshot(SnapshotCmd::Fetch {
            node,
            genesis,
            height,
            out,
        }) => snapshot_cmd::fetch(&node, &genesis, height, &out, cli.output),
        Command::Proof {
            kind,
            id,
            node,
            height,
            since,
            out,
            format,
            bundle_version,
        } => proof_cmd::proof(
            &kind,
            &id,
            &node,
            height,
            since,
            &out,
            (format, bundle_version),
            cli.output,
        ),
        Command::Inspection(InspectionCmd::Draw {
            plan_id,
            verify,
            node,
        }) => {
            if verify {
                query_cmd::verify_draw(&plan_id, &node, cli.output)
            } else {
                Err(anyhow::anyhow!(
                    "inspection draw: give --verify (draws are made by the plan's `Draw` call)"
                ))
            }
        }
        Command::Eligibility {
            uscc,
            purpose,
            node,
            height,
            bundle_dir,
        } => proof_cmd::eligibility(
            &uscc,
            &purpose,
            &node,
            height,
            bundle_dir.as_deref(),
            cli.output,
        ),
        Command::Verify {
            file,
            trust,
            at,
            max_age_days,
        } => proof_cmd::verify(&file, &trust, at.as_deref(), max_age_days, cli.output),
        Command::Credential {
            kind,
            id,
            node,
            out,
        } => match kind.as_str() {
            "licence" => credential_cmd::licence(&id, &node, out.as_deref(), cli.output),
            other => Err(anyhow::anyhow!(
                "credentials are exported for licences only, not {other:?}"
            )),
        },
        Command::Query {
            kind,
            id,
            node,
            height,
            validator_set_hash,
        } => query_cmd::query(
            &kind,
            &id,
            &node,
            height,
            validator_set_hash.as_deref(),
            cli.output,
        ),
        Command::Trace {
            number,
            node,
            height,
            validator_set_hash,
            trust,
            bundle_dir,
            epcis,
        } => trace_cmd::trace(
            &number,
            &node,
            height,
            validator_set_hash.as_deref(),
            trust.as_deref(),
            bundle_dir.as_deref(),
            epcis.as_deref(),
            cli.output,
        ),
        Command::Epcis(EpcisCmd::Capture {
            file,
            key,
            node,
            wait,
        }) => tx_cmd::epcis_capture(&file, &key, &node, wait, cli.output),
        Command::VerifyTrace { dir, trust } => trace_cmd::verify_trace(&dir, &trust, cli.output),
        Command::Demo {
            node,
            home,
            count,
            timeout_secs,
        } => demo_cmd::run(&node, &home, count, timeout_secs, cli.output),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "concordat",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            if e.downcast_ref::<Reported>().is_none() && cli.output == Output::Json {
                let mut doc = serde_json::json!({ "error": format!("{e:#}") });
                if let Some(http::NodeError::Api {
                    status,
                    code,
                    message,
                }) = e.downcast_ref::<http::NodeError>()
                {
                    doc["code"] = serde_json::json!(code);
                    doc["http_status"] = serde_json::json!(status);
                    doc["message"] = serde_json::json!(message);
                }
                println!("{doc}");
            }
            eprintln!("error: {e:#}");
            1
        }
    }
}
