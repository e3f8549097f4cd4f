#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/, cargo-fuzz with libFuzzer and AddressSanitizer on nightly).
#
#   scripts/fuzz.sh                 # every target for 10 s (what scripts/test.sh runs)
#   scripts/fuzz.sh 600             # every target for 10 minutes
#   scripts/fuzz.sh 3600 bundle tx  # the named targets for an hour each
#
# Each target starts from its seeds (fuzz/seeds/<target>, well-formed inputs written by
# `cargo run -p concordat-tests --example fuzz_seeds`) and its regression inputs
# (fuzz/regressions/<target>: every crash ever found, kept after the fix), which are also
# replayed one by one first. New corpus entries go to a scratch directory (FUZZ_CORPUS_DIR keeps
# them). A crash stops the script with the input in fuzz/artifacts/<target>/: fix the defect,
# then move the input into fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-10}"
shift || true
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "installing the nightly toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (first run on this machine only)"
  cargo install --locked cargo-fuzz --version 0.13.1
fi
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
# One build of every target (optimised, debug assertions on, AddressSanitizer).
FUZZ=(cargo +nightly fuzz)
FLAGS=(--fuzz-dir fuzz -O --debug-assertions)
"${FUZZ[@]}" build "${FLAGS[@]}"
CORPUS_ROOT="${FUZZ_CORPUS_DIR:-$(mktemp -d)}"
LOG=$(mktemp)
for t in "${TARGETS[@]}"; do
  corpus="$CORPUS_ROOT/$t"
  mkdir -p "$corpus" "fuzz/regressions/$t"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds+=("fuzz/seeds/$t")
  mapfile -t regressions < <(find "fuzz/regressions/$t" -type f | sort)
  if [ ${#regressions[@]} -gt 0 ]; then
    echo "== $t: replaying ${#regressions[@]} regression inputs"
    "${FUZZ[@]}" run "${FLAGS[@]}" "$t" "${regressions[@]}" -- -runs=1 >"$LOG" 2>&1 ||
      { tail -n 40 "$LOG"; echo "FAIL: $t: a regression input fails again"; exit 1; }
  fi
  echo "== $t: fuzzing for ${SECONDS_EACH} s"
  if ! "${FUZZ[@]}" run "${FLAGS[@]}" "$t" "$corpus" "${seeds[@]}" "fuzz/regressions/$t" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=1048576 -timeout=20 \
    -print_final_stats=1 >"$LOG" 2>&1; then
    tail -n 60 "$LOG"
    echo "FAIL: $t: a crash, a leak, a timeout or running out of memory; the input is in fuzz/artifacts/$t"
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE' "$LOG" | tr '\n' ' '
  echo
done
rm -f "$LOG"
[ -n "${FUZZ_CORPUS_DIR:-}" ] || rm -rf "$CORPUS_ROOT"
echo "ok: ${#TARGETS[@]} fuzz targets ran ${SECONDS_EACH} s each without a crash"
