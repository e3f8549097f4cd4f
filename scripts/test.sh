#!/usr/bin/env bash
# Concordat's one test command: installs what a fresh machine lacks, then runs every check
# and test. CI (.ci/run) calls this script. Exit code 0 means everything passed.
#
# Steps: prerequisites -> fmt -> clippy -> purity (cargo tree + wasm32 build) -> cargo deny
#        -> pymerkle cross-check of the tx log and of bundles' log proofs (the EPCIS reference
#        hash generator is installed for the tests) -> binaries and the
#        localnet smoke test -> the simulation (2,000 seeds per scenario) -> fuzzing (every target
#        10 s) -> all other Rust tests (the soak, partition and failpoint campaigns among them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

START=$(date +%s)
# Each step prints the minutes and seconds since the start, so a slow step shows in CI's log.
step() {
  local t=$(($(date +%s) - START))
  printf '\n=== [%dm%02ds] %s\n' $((t / 60)) $((t % 60)) "$*"
}

# ---------------------------------------------------------------------------------------------
step "prerequisites"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  # RocksDB's bindings; headless Chromium and a CJK font for the browser tests' screenshots;
  # binaryen's wasm-opt for the browser verifier.
  for pkg in libclang-dev clang pkg-config chromium fonts-wqy-zenhei binaryen; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
# The standard library's sources: the browser verifier is built with it rebuilt for size.
rustup component list --installed 2>/dev/null | grep -q '^rust-src' || rustup component add rust-src
if ! cargo deny --version >/dev/null 2>&1; then
  echo "installing cargo-deny (first run on this machine only)"
  cargo install --locked cargo-deny --version 0.20.2
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
fi
# The reference Bitstring Status List implementation for the credential test (pinned by the lock).
[ -d tests/vc/node_modules ] || npm ci --prefix tests/vc --no-audit --no-fund --silent
PY=python3
if ! "$PY" -c 'import pymerkle' 2>/dev/null; then
  "$PY" -m pip install -q -r tests/pymerkle/requirements.txt
fi
# The reference EPCIS event-hash generator (PyPI, runs offline) for tests/tests/epcis_reference.rs.
if ! "$PY" -c 'import epcis_event_hash_generator' 2>/dev/null; then
  "$PY" -m pip install -q -r tests/epcis/requirements.txt
fi
export CONCORDAT_EPCIS_PYTHON="$PY"

# ---------------------------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
# Clippy only checks (nothing links), but cargo gives its build of librocksdb-sys another unit
# than the real build (the host dependencies of bindgen resolve differently), and that unit
# would compile RocksDB's C++ a second time (about 13 minutes). ROCKSDB_LIB_DIR tells the
# build script a library exists, so it compiles nothing; the directory is empty because a
# check never links. The real builds below do not set it and compile RocksDB once.
NO_ROCKSDB=$(mktemp -d)
ROCKSDB_LIB_DIR="$NO_ROCKSDB" ROCKSDB_STATIC=1 \
  cargo clippy --workspace --all-targets --locked -- -D warnings
rmdir "$NO_ROCKSDB"

# ---------------------------------------------------------------------------------------------
step "purity: pure crates have no IO dependencies and build for wasm32"
PURE=(concordat-primitives concordat-consensus concordat-contracts concordat-genesis)
for crate in "${PURE[@]}"; do
  tree=$(cargo tree -p "$crate" -e normal --prefix none --locked)
  if bad=$(grep -E '^(tokio|libp2p|rocksdb|clap|mio|socket2|hyper|axum)( |$)' <<<"$tree" | sort -u) && [ -n "$bad" ]; then
    echo "FAIL: $crate depends on IO crates:"; echo "$bad"; exit 1
  fi
  echo "ok: $crate has no tokio/libp2p/rocksdb/clap in its normal dependency tree"
done
cargo build --locked --target wasm32-unknown-unknown $(printf -- '-p %s ' "${PURE[@]}")
cargo build --locked --target wasm32-unknown-unknown -p concordat-client --lib --no-default-features
echo "ok: pure crates and the client's verifying half build for wasm32-unknown-unknown"
# The browser verifier checks signatures one by one (primitives' `single-verify`, on for wasm32
# only): the signature tests under that feature too.
cargo test -q --locked -p concordat-primitives --features single-verify --test crypto

# ---------------------------------------------------------------------------------------------
step "cargo deny (bans, licences, sources; advisories offline against the RustSec snapshot)"
cargo deny --log-level error check bans licenses sources
# The RustSec advisory database cannot be fetched here; a snapshot sits beside the repository
# (CONCORDAT_ADVISORY_DB overrides where). cargo-deny reads it offline as a git repository in a
# folder named after the default database URL, so it is copied out (the snapshot is read-only)
# and committed into a throwaway repository. Without a snapshot, fetch the live database.
ADV_SRC="${CONCORDAT_ADVISORY_DB:-}"
for cand in "$ROOT/../shared/advisory-db" /work/shared/advisory-db; do
  [ -n "$ADV_SRC" ] || { [ -f "$cand/SNAPSHOT" ] && ADV_SRC="$cand"; }
done
ADV_DIR=$(mktemp -d)
if [ -n "$ADV_SRC" ]; then
  cp -r "$ADV_SRC" "$ADV_DIR/advisory-db-3157b0e258782691"
  git -C "$ADV_DIR/advisory-db-3157b0e258782691" init -q
  git -C "$ADV_DIR/advisory-db-3157b0e258782691" add -A
  git -C "$ADV_DIR/advisory-db-3157b0e258782691" -c user.email=ci@localhost -c user.name=ci \
    commit -q -m "RustSec snapshot"
  sed "s|^\[advisories\]|[advisories]\ndb-path = \"$ADV_DIR\"|" deny.toml >"$ADV_DIR/deny.toml"
  echo "advisories: the snapshot in $ADV_SRC ($(sed -n 2p "$ADV_SRC/SNAPSHOT"))"
  cargo deny --offline --log-level error --config "$ADV_DIR/deny.toml" check advisories
else
  cargo deny --log-level error check advisories
fi
rm -rf "$ADV_DIR"

# ---------------------------------------------------------------------------------------------
step "pymerkle cross-check of the RFC 9162 tx log"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cargo run -q --locked -p concordat-primitives --example dump_merkle_log >"$tmp"
"$PY" tests/pymerkle/check_log.py "$tmp"
# The inclusion and consistency proofs carried by offline bundles (docs/bundle.md), too.
cargo run -q --locked -p concordat-client --example dump_bundle_log_proofs >"$tmp"
"$PY" tests/pymerkle/check_bundle.py "$tmp"

# ---------------------------------------------------------------------------------------------
step "binaries (all targets: the tests' feature set, so RocksDB builds once, here)"
cargo build --locked --workspace --all-targets
# The browser verifier, built for size, optimised by wasm-opt and held to its size budget (here
# the size build must work: no falling back to the plain one).
VERIFIER_WASM_REQUIRE_SIZE=1 scripts/verifier-wasm.sh

step "localnet smoke test (the README's run command: 4 validators; concordat demo --count 100)"
LN=$(mktemp -d)
export LOCALNET_DIR="$LN/localnet"
stop_localnet() { scripts/localnet.sh stop >/dev/null 2>&1 || true; rm -rf "$LN"; }
trap 'rm -f "$tmp"; stop_localnet' EXIT
LOCALNET_SKIP_BUILD=1 scripts/localnet.sh >/dev/null
BIN="${CARGO_TARGET_DIR:-target}/debug"
demo=$("$BIN/concordat" demo --node http://127.0.0.1:8700 --home "$LOCALNET_DIR" --count 100 --output json)
committed=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["committed"])' "$demo")
[ "$committed" = 100 ] || { echo "FAIL: demo committed $committed of 100"; exit 1; }
last=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["tx_hashes"][-1])' "$demo")
for port in 8701 8702 8703; do
  seen=""
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$port/v1/txs/$last" | grep -q '"status":"committed"'; then seen=1; break; fi
    sleep 0.1
  done
  [ -n "$seen" ] || { echo "FAIL: validator on $port never committed $last"; exit 1; }
done
echo "ok: localnet committed 100 of 100 demo transactions, seen committed on all 4 validators"
stop_localnet
unset LOCALNET_DIR

# ---------------------------------------------------------------------------------------------
# The deterministic simulation (the node's real driver and core, docs/TESTING.md): 2,000 seeds
# per scenario with liveness checked (issue 11; 11 minutes on two cores, 2026-12-05).
# CONCORDAT_SIM_SEEDS overrides the count here; `scripts/sim-campaign.sh N` runs it alone.
step "simulation: ${CONCORDAT_SIM_SEEDS:-2000} seeds per scenario"
export CONCORDAT_SIM_SEEDS="${CONCORDAT_SIM_SEEDS:-2000}"
# --workspace with a filter, not -p: the same feature resolution as the build above, so
# nothing is compiled again.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast -E 'package(concordat-tests) & binary(sim)'
else
  cargo test --workspace --locked --no-fail-fast --test sim
fi
unset CONCORDAT_SIM_SEEDS

# ---------------------------------------------------------------------------------------------
# Every fuzz target for 10 s (cargo-fuzz on nightly, its own build without RocksDB; the long
# version is `scripts/fuzz.sh 600`, docs/reliability.md).
step "fuzzing: every target 10 s"
scripts/fuzz.sh 10

# ---------------------------------------------------------------------------------------------
# The Rust tests run last so that the runner's summary line closes the output.
step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast -E 'not (package(concordat-tests) & binary(sim))'
else
  cargo test --workspace --locked --no-fail-fast
fi

