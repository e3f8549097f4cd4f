#!/usr/bin/env bash
# Concordat's benchmark (goals.md, Performance): 4 validators on 127.0.0.1, each with its own
# RocksDB and synced commits; an open-loop load of pre-signed transactions of a realistic mix
# over many keys; a saturating run and a half-load run, 3 runs of 60 s each by default, medians;
# the single-core batch signature-verification rate and the signature bound measured in the
# same run. Progress goes to stderr, one JSON line to stdout at the end, and the markdown
# report to docs/perf.md (or BENCH_REPORT).
#
#   scripts/bench.sh                       # the full benchmark (about 10 minutes after the build)
#   BENCH_ARGS="--runs 1 --duration 20" scripts/bench.sh   # a quick look
#
# Options (BENCH_ARGS): --runs N, --duration SECONDS, --validators N, --saturate-tps TPS
# (the offered rate of the saturating run; default 6000), --report FILE, --scale N,M (record
# counts: for each, a fresh network preloaded with that many party records, then the same
# saturating runs; throughput, latency, RSS, store and proof sizes, and the ratio largest over
# smallest), e.g. --scale 100000,10000000 (the 10 M preload takes about 25 minutes and some
# 12 GB of disk: the validators share the preloaded store's table files), --bundle-validators N
# (proof and bundle sizes on a network of N validators, default 21; 0 skips) with
# --bundle-records N preloaded first (default 1,000,000), --flood-runs N
# (half-load runs while one client floods node 0 with forged transactions at 10x the honest
# rate; honest throughput against the half-load runs and node 0's RSS; default 1, 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building the release binaries (the first release build compiles RocksDB: about 15 minutes)" >&2
cargo build --locked --release -p concordat-node -p concordat-client -p concordat-tests --bin concordat-node --bin concordat --bin concordat-bench >&2
# The browser verifier, whose size the report gives.
scripts/verifier-wasm.sh >/dev/null
REPORT="${BENCH_REPORT:-docs/perf.md}"
# shellcheck disable=SC2086
exec "${CARGO_TARGET_DIR:-target}/release/concordat-bench" --report "$REPORT" ${BENCH_ARGS:-}
