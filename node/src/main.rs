//! `concordat-node --home DIR`: runs a Concordat node from `DIR/config.toml`,
//! `DIR/genesis.json` and `DIR/node_key`, keeping its data in `DIR/data`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use concordat_genesis::snapshot::Snapshot;
use concordat_genesis::GenesisSpec;
use concordat_node::api::{router, AppState, NodeInfo};
use concordat_node::bft::BftDriver;
use concordat_node::config::Config;
use concordat_node::core::{import_snapshot, ExternalConsensus, NodeCore};
use concordat_node::http::HttpLimits;
use concordat_node::metrics::Metrics;
use concordat_node::net::{NetConfig, Network};
use concordat_node::rocks::RocksStore;
use concordat_node::service::{self, Persist, ServiceConfig};
use concordat_node::signed_log::SignedLog;
use concordat_node::store::NodeStore;
use concordat_primitives::keyfile::{KeyFile, KeyFileError};
use zeroize::Zeroizing;

/// Capacity of the queue from the consensus thread to the network.
const OUTBOUND_QUEUE: usize = 8192;
/// A height that has not committed for this long re-sends our own messages.
const RESEND_AFTER: Duration = Duration::from_secs(2);

#[derive(Parser, Debug)]
#[command(
    name = "concordat-node",
    version,
    about = "Concordat validator / observer daemon"
)]
struct Args {
    /// Node home: config.toml, genesis.json, node_key, data/.
    #[arg(long, required_unless_present = "print_default_config")]
    home: Option<PathBuf>,
    /// Override `[http] listen`.
    #[arg(long)]
    http_listen: Option<std::net::SocketAddr>,
    /// Override `[p2p] listen`.
    #[arg(long)]
    p2p_listen: Option<std::net::SocketAddr>,
    /// Override `[log] format` (text or json).
    #[arg(long)]
    log_format: Option<String>,
    /// Print the default config.toml and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Start an empty data directory from a snapshot file (`concordat snapshot fetch`): its
    /// state is checked against its certified header, then the node syncs on from there.
    #[arg(long, value_name = "FILE")]
    import_snapshot: Option<PathBuf>,
}

/// The passphrase of an encrypted node key: the first line of the file
/// `$CONCORDAT_KEY_PASSPHRASE_FILE` names (e.g. a systemd credential), else
/// `$CONCORDAT_KEY_PASSPHRASE`, else asked on the terminal when there is one.
fn node_key_passphrase(path: &std::path::Path) -> Result<Zeroizing<String>, KeyFileError> {
    let refuse = KeyFileError::Passphrase;
    let pass = if let Some(file) = std::env::var_os("CONCORDAT_KEY_PASSPHRASE_FILE") {
        let text = Zeroizing::new(std::fs::read_to_string(&file).map_err(|e| {
            refuse(format!(
                "reading $CONCORDAT_KEY_PASSPHRASE_FILE ({}): {e}",
                std::path::Path::new(&file).display()
            ))
        })?);
        Zeroizing::new(text.lines().next().unwrap_or("").to_string())
    } else if let Ok(p) = std::env::var("CONCORDAT_KEY_PASSPHRASE") {
        Zeroizing::new(p)
    } else if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        Zeroizing::new(
            rpassword::prompt_password(format!("Passphrase for {}: ", path.display()))
                .map_err(|e| refuse(format!("reading the passphrase: {e}")))?,
        )
    } else {
        return Err(refuse(
            "it is encrypted: set $CONCORDAT_KEY_PASSPHRASE_FILE (a file holding the \
             passphrase) or $CONCORDAT_KEY_PASSPHRASE, or start the node on a terminal"
                .into(),
        ));
    };
    if pass.is_empty() {
        return Err(refuse("the passphrase is empty".into()));
    }
    Ok(pass)
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.print_default_config {
        print!("{}", Config::default_toml());
        return Ok(());
    }
    concordat_node::failpoint::check_config().map_err(anyhow::Error::msg)?;
    let home = args.home.clone().unwrap_or_default();
    let mut config = Config::load(&home)?;
    if let Some(listen) = args.http_listen {
        config.http.listen = listen;
    }
    if let Some(listen) = args.p2p_listen {
        config.p2p.listen = listen;
    }
    if let Some(f) = args.log_format {
        if f != "text" && f != "json" {
            bail!("--log-format must be text or json");
        }
        config.log.format = f;
    }
    init_logs(&config);
    // A broken invariant or a storage failure on the consensus thread (both panic there) stops
    // the node cleanly and loudly: logged at error level, exit status 70, never a node that
    // keeps answering HTTP without consensus.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        tracing::error!(thread = %thread, panic = %info, "fatal error");
        default_hook(info);
        if thread == "concordat-consensus" {
            concordat_node::stop_fatally();
        }
    }));

    let genesis_path = home.join("genesis.json");
    let text = std::fs::read_to_string(&genesis_path)
        .with_context(|| format!("reading {}", genesis_path.display()))?;
    let genesis = GenesisSpec::from_json(&text)?.validate()?;
    let key_path = home.join("node_key");
    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading {}", key_path.display()))?;
    let key = KeyFile::from_json(&key_text)
        .with_context(|| format!("{} is not a key file", key_path.display()))?
        .unlock(|| node_key_passphrase(&key_path))
        .with_context(|| format!("node key {}", key_path.display()))?;

    let store =
        Arc::new(RocksStore::open(&home.join("data")).context("opening the data directory")?);
    if let Some(file) = &args.import_snapshot {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let snapshot = Snapshot::from_bytes(&bytes).map_err(anyhow::Error::msg)?;
        let height = import_snapshot(store.as_ref(), &genesis, &snapshot, rand::rngs::OsRng)
            .with_context(|| format!("importing {}", file.display()))?;
        tracing::info!(
            height,
            entries = snapshot.entries.len(),
            "imported the snapshot (state checked against its certified header); syncing on from there"
        );
    }
    let core = NodeCore::open(
        store.clone(),
        &genesis,
        key.clone(),
        config.consensus.clone(),
        config.mempool.clone(),
        Box::new(ExternalConsensus),
        {
            // Batch-verification randomness: the core reads none of its own.
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
            seed
        },
    )?;
    let me = key.public_key();
    let validator = core.validator_set().index_of(&me).is_some();
    let observers = config.p2p.observer_keys().map_err(anyhow::Error::msg)?;
    let mut allowed: Vec<_> = core
        .validator_set()
        .validators()
        .iter()
        .map(|v| v.key)
        .collect();
    allowed.extend(observers.iter().copied());
    tracing::info!(
        chain_id = %genesis.chain_id,
        genesis = %genesis.hash(),
        height = core.tip().height,
        node_key = %me,
        role = if validator { "validator" } else { "observer" },
        "starting"
    );
    let safety = store
        .load_safety()
        .context("reading the consensus safety state")?;
    // The key is always given: the engine signs only while it is in the set of the height, so
    // a node added to the set by governance starts voting without a restart.
    let lock_evidence = store
        .load_lock_evidence()
        .context("reading the consensus lock evidence")?;
    let status_lists = core.status_lists();
    let driver = BftDriver::new(core, Some(key.clone()), safety)
        .with_empty_block_interval(config.consensus.empty_block_interval_ms)
        .with_idle_block_interval(config.consensus.idle_block_interval_ms)
        .with_lock_evidence(lock_evidence);
    let persist_store = store.clone();
    let persist: Persist = Box::new(move |state, lock| {
        persist_store
            .persist_consensus(state, lock)
            .map_err(|e| e.to_string())
    });
    let info = NodeInfo {
        chain_id: genesis.chain_id.clone(),
        genesis_hash: genesis.hash(),
        node_key: me,
        verifier_wasm: match config.http.verifier_wasm_path() {
            Some(path) => {
                let bytes = std::fs::read(&path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                tracing::info!(path = %path.display(), bytes = bytes.len(), "browser verifier installed at /verify");
                Some(
                    concordat_node::api::VerifierWasm::new(bytes)
                        .map_err(|e| anyhow::anyhow!("compressing {}: {e}", path.display()))?,
                )
            }
            None => {
                tracing::info!("no browser verifier module; /verify/verifier.wasm answers 404");
                None
            }
        },
    };
    // Rehearsals and tests of dated scenarios (publicity windows, automatic removals) shift
    // this node's clock; every validator of the network must use the same offset.
    let clock_offset_ms: i64 = match std::env::var("CONCORDAT_CLOCK_OFFSET_MS") {
        Ok(v) => v.trim().parse().with_context(|| {
            format!("CONCORDAT_CLOCK_OFFSET_MS={v:?} is not a whole number of ms")
        })?,
        Err(_) => 0,
    };
    if clock_offset_ms != 0 {
        tracing::warn!(
            clock_offset_ms,
            "block times are shifted by CONCORDAT_CLOCK_OFFSET_MS (rehearsals and tests only)"
        );
    }
    let journal = home
        .join("data")
        .join(concordat_node::signed_log::FILE_NAME);
    let signed_log = SignedLog::open(&journal, me, concordat_node::signed_log::DEFAULT_MAX_BYTES)
        .with_context(|| format!("opening {}", journal.display()))?;
    let metrics = Arc::new(Metrics::default());
    let (out_tx, out_rx) = tokio::sync::mpsc::channel(OUTBOUND_QUEUE);
    let (handle, join) = service::spawn(
        driver,
        persist,
        out_tx,
        ServiceConfig {
            tick: Duration::from_millis(config.consensus.block_interval_ms),
            resend_after: RESEND_AFTER,
            observers,
            clock_offset_ms,
        },
        metrics.clone(),
        Some(signed_log),
    );

    // Two runtimes: the network (peer traffic, consensus messages) never shares its thread
    // with the HTTP API's synchronous database reads and proof building.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("concordat-http")
        .enable_all()
        .build()?;
    let net_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("concordat-p2p")
        .enable_all()
        .build()?;
    let store_dyn: Arc<dyn NodeStore> = store;
    let net_config = NetConfig {
        listen: config.p2p.listen,
        peers: config.p2p.peer_addrs().map_err(anyhow::Error::msg)?,
        max_message_bytes: config.p2p.max_message_bytes,
    };
    let state = AppState {
        store: store_dyn.clone(),
        core: handle.clone(),
        metrics: metrics.clone(),
        info,
        status_lists,
    };
    let app = router(state, config.http.max_body_bytes);
    let net_handle = handle.clone();
    let limits = HttpLimits {
        max_connections: config.http.max_connections,
        header_read_timeout: Duration::from_millis(config.http.header_read_timeout_ms),
    };
    let network = {
        let _guard = net_rt.enter();
        Network::new(
            &key,
            &allowed,
            net_config,
            store_dyn,
            net_handle,
            genesis.hash(),
            metrics,
        )
        .map_err(anyhow::Error::msg)?
    };
    let mut network = net_rt.spawn(network.run(out_rx));
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding {}", config.http.listen))?;
        tracing::info!(
            listen = %config.http.listen,
            max_connections = limits.max_connections,
            "HTTP API listening"
        );
        let serve = concordat_node::http::serve(listener, app, limits, async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .unwrap_or_else(|e| panic!("cannot listen for SIGTERM: {e}"));
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
            tracing::info!("shutting down");
        });
        tokio::select! {
            served = serve => served.context("HTTP server"),
            // The network task ends only if the consensus thread stopped or it failed: a node
            // without either must not keep answering as if it were live.
            ended = &mut network => {
                bail!("the network task stopped: {ended:?}")
            }
        }
    })?;
    handle.shutdown();
    let _ = join.join();
    Ok(())
}
