#!/usr/bin/env bash
# A long simulation campaign: every scenario of tests/tests/sim.rs over N seeds (default 2,000;
# about 19 minutes on two cores), with liveness checked. A failure prints the seed and the
# command that replays it. See docs/TESTING.md.
#
#   scripts/sim-campaign.sh [SEEDS] [TEST-NAME-FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
export CONCORDAT_SIM_SEEDS="${1:-2000}"
filter=("${@:2}")
echo "simulation campaign: $CONCORDAT_SIM_SEEDS seeds per scenario"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast -E 'package(concordat-tests) & binary(sim)' "${filter[@]}"
else
  cargo test --locked -p concordat-tests --test sim --no-fail-fast -- "${filter[@]}"
fi
