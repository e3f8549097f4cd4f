#!/usr/bin/env bash
# Builds the browser verifier (client/wasm) and shrinks it with binaryen's `wasm-opt -Oz`, in
# place: the module the node serves at /verify and the browser tests load.
#
#   scripts/verifier-wasm.sh            # build, optimise, check the size budget, print the path
#   VERIFIER_WASM_PLAIN=1 ...           # the plain build only (no rebuilt standard library)
#   VERIFIER_WASM_REQUIRE_SIZE=1 ...    # fail instead of falling back to the plain build (CI)
#
# Without wasm-opt (Debian: `apt-get install binaryen`) the module is left as cargo wrote it,
# with a warning. The size budget (VERIFIER_WASM_BUDGET bytes, optimised) stops the module from
# growing unnoticed; goals.md asks for 300 KB, docs/perf-analysis.md says where it stands.
set -euo pipefail
cd "$(dirname "$0")/.."
PLAIN=0
rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' \
  || rustup target add wasm32-unknown-unknown >&2
# The size build (ADR 0025): the standard library rebuilt for size, with panics that stop the
# module at once (no panic messages, locations or formatting reached only from panics: a panic
# in wasm32-unknown-unknown is a trap either way, nothing prints it). These are unstable cargo
# and rustc options, used through the stable compiler (RUSTC_BOOTSTRAP, the same compiler as
# the rest of the build) and its `rust-src` component. If that build fails (no rust-src, a
# compiler without the options), the plain build follows with a warning.
size_build() {
  rustup component list --installed 2>/dev/null | grep -q '^rust-src' \
    || rustup component add rust-src >&2 || return 1
  # RUSTFLAGS would override the target's flags: left out of this build.
  env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    cargo build --locked -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size \
    --target wasm32-unknown-unknown --profile wasm -p concordat-verifier-wasm >&2
}
if [ "${VERIFIER_WASM_PLAIN:-0}" = 1 ]; then
  PLAIN=1
elif ! size_build; then
  if [ "${VERIFIER_WASM_REQUIRE_SIZE:-0}" = 1 ]; then
    echo "FAIL: the size build of the browser verifier failed (VERIFIER_WASM_REQUIRE_SIZE=1)" >&2
    exit 1
  fi
  echo "warning: the size build of the browser verifier failed; building it plainly (larger)" >&2
  PLAIN=1
fi
if [ "$PLAIN" = 1 ]; then
  cargo build --locked --target wasm32-unknown-unknown --profile wasm -p concordat-verifier-wasm >&2
fi
WASM="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm/concordat_verifier_wasm.wasm"
raw=$(stat -c %s "$WASM")
if command -v wasm-opt >/dev/null; then
  # The features rustc's wasm32-unknown-unknown target enables by default.
  wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
    "$WASM" -o "$WASM.opt"
  mv "$WASM.opt" "$WASM"
  size=$(stat -c %s "$WASM")
  # The plain build (no rebuilt standard library) is allowed more.
  if [ "$PLAIN" = 1 ]; then BUDGET="${VERIFIER_WASM_BUDGET:-425000}"; else BUDGET="${VERIFIER_WASM_BUDGET:-300000}"; fi
  gz=$(gzip -9 -c "$WASM" | wc -c)
  echo "browser verifier: $size bytes after wasm-opt -Oz ($raw before; $gz gzipped)" >&2
  if [ "$size" -gt "$BUDGET" ]; then
    echo "FAIL: the browser verifier is $size bytes, over its budget of $BUDGET" >&2
    exit 1
  fi
else
  echo "warning: wasm-opt not found (apt-get install binaryen): the verifier is $raw bytes, unoptimised" >&2
fi
echo "$WASM"
