//! `concordat-node --home DIR`: runs a Concordat node from `DIR/config.toml`,
//! `DIR/genesis.json` and `DIR/node_key`, keeping its data in `DIR/data`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use concordat_genesis::GenesisSpec;
use concordat_node::api::{router, AppState, NodeInfo};
use concordat_node::config::Config;
use concordat_node::core::{NodeCore, SoloDecider};
use concordat_node::metrics::Metrics;
use concordat_node::rocks::RocksStore;
use concordat_node::service::{spawn_core, Request};
use concordat_node::store::NodeStore;
use concordat_primitives::crypto::KeyFile;

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
    /// Override `[log] format` (text or json).
    #[arg(long)]
    log_format: Option<String>,
    /// Print the default config.toml and exit.
    #[arg(long)]
    print_default_config: bool,
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
    let home = args.home.clone().unwrap_or_default();
    let mut config = Config::load(&home)?;
    if let Some(listen) = args.http_listen {
        config.http.listen = listen;
    }
    if let Some(f) = args.log_format {
        if f != "text" && f != "json" {
            bail!("--log-format must be text or json");
        }
        config.log.format = f;
    }
    init_logs(&config);

    let genesis_path = home.join("genesis.json");
    let text = std::fs::read_to_string(&genesis_path)
        .with_context(|| format!("reading {}", genesis_path.display()))?;
    let genesis = GenesisSpec::from_json(&text)?.validate()?;
    let key_path = home.join("node_key");
    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading {}", key_path.display()))?;
    let key = serde_json::from_str::<KeyFile>(&key_text)
        .with_context(|| format!("{} is not a key file", key_path.display()))?
        .secret()?;

    let store =
        Arc::new(RocksStore::open(&home.join("data")).context("opening the data directory")?);
    let core = NodeCore::open(
        store.clone(),
        &genesis,
        key.clone(),
        config.consensus.clone(),
        config.mempool.clone(),
        Box::new(SoloDecider::new(key.clone())),
    )?;
    let set = core.validator_set();
    let me = key.public_key();
    let my_power = set
        .index_of(&me)
        .map(|i| set.validators()[i].power)
        .unwrap_or(0);
    if !set.is_quorum(my_power) {
        bail!(
            "this build commits with a single validator holding more than 2/3 of the voting power \
             (multi-validator BFT arrives with issue 4); node key {me} holds {my_power} of {}",
            set.total_power()
        );
    }
    tracing::info!(chain_id = %genesis.chain_id, genesis = %genesis.hash(), height = core.tip().height, node_key = %me, "starting");
    let info = NodeInfo {
        chain_id: genesis.chain_id.clone(),
        genesis_hash: genesis.hash(),
        node_key: me,
    };
    let metrics = Arc::new(Metrics::default());
    let interval = Duration::from_millis(config.consensus.block_interval_ms);
    let (handle, join) = spawn_core(core, interval, metrics.clone());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let store_dyn: Arc<dyn NodeStore> = store;
    let state = AppState {
        store: store_dyn,
        core: handle.clone(),
        metrics,
        info,
    };
    let app = router(state, config.http.max_body_bytes);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding {}", config.http.listen))?;
        tracing::info!(listen = %config.http.listen, "HTTP API listening");
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .unwrap_or_else(|e| panic!("cannot listen for SIGTERM: {e}"));
                tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
                tracing::info!("shutting down");
            })
            .await
            .context("HTTP server")
    })?;
    handle.send(Request::Shutdown);
    let _ = join.join();
    Ok(())
}
