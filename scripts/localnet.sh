#!/usr/bin/env bash
# Concordat local network on 127.0.0.1: the README's run command.
#
#   scripts/localnet.sh [start] [--validators N]   build, create (first time) and start
#   scripts/localnet.sh stop                        stop every node of the network
#   scripts/localnet.sh status                      show each node's height
#
# State lives in .localnet/ (git-ignored; override with LOCALNET_DIR): node<i>/ homes with a
# pid file each, and the demo department keys in keys/. Node i serves HTTP on 8700+i and p2p
# on 9700+i; every node lists the others as p2p peers. Starting again resumes from the data
# on disk. The default is 4 validators (f = 1: any one may stop and the chain goes on).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${LOCALNET_DIR:-.localnet}
CMD=start
VALIDATORS=4
while [ $# -gt 0 ]; do
  case "$1" in
    start|stop|status) CMD=$1 ;;
    --validators) VALIDATORS=${2:?--validators needs a number}; shift ;;
    --validators=*) VALIDATORS=${1#*=} ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/debug"

# A process is alive if it exists and is not a zombie (kill -0 succeeds on zombies, and in a
# container whose first process does not reap, a killed node stays one).
running() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo "")
  [ "$state" != "Z" ]
}
alive() { [ -f "$1/pid" ] && running "$(cat "$1/pid")"; }

nodes() { ls -d "$DIR"/node* 2>/dev/null | sort -V; }

case "$CMD" in
stop)
  for home in $(nodes); do
    if alive "$home"; then
      pid=$(cat "$home/pid"); kill "$pid"
      for _ in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
      running "$pid" && kill -9 "$pid"
      echo "stopped $(basename "$home") (pid $pid)"
    fi
    rm -f "$home/pid"
  done
  exit 0 ;;
status)
  for home in $(nodes); do
    i=${home##*node}
    if alive "$home"; then
      echo "node$i: running, $(curl -s "http://127.0.0.1:$((8700 + i))/v1/status" | tr -d '\n' | cut -c1-200)"
    else
      echo "node$i: stopped"
    fi
  done
  exit 0 ;;
esac

case "$VALIDATORS" in
  ''|*[!0-9]*|0) echo "--validators must be a positive number" >&2; exit 2 ;;
esac
if [ -n "${LOCALNET_SKIP_BUILD:-}" ]; then
  # scripts/test.sh has built every target already (with the tests' feature set; building
  # --bins alone here would compile RocksDB a second time).
  [ -x "$BIN/concordat-node" ] && [ -x "$BIN/concordat" ] \
    || { echo "LOCALNET_SKIP_BUILD is set but $BIN holds no binaries" >&2; exit 1; }
else
  echo "building concordat and concordat-node (the first build compiles RocksDB: about 13 minutes)"
  cargo build --locked --bins -p concordat-node -p concordat-client
fi
# The browser verifier served at /verify (docs/bundle.md), optimised when wasm-opt is there.
CONCORDAT_VERIFIER_WASM=$(scripts/verifier-wasm.sh)
export CONCORDAT_VERIFIER_WASM

if [ ! -f "$DIR/genesis.json" ]; then
  "$BIN/concordat" genesis demo --dir "$DIR" --validators "$VALIDATORS" >/dev/null
  pubkey() { grep -o '"public_key": *"[0-9a-f]*"' "$1/node_key" | grep -o '[0-9a-f]\{64\}'; }
  for home in $(nodes); do
    i=${home##*node}
    peers=""
    for other in $(nodes); do
      j=${other##*node}
      [ "$j" = "$i" ] && continue
      peers="$peers${peers:+, }\"$(pubkey "$other")@127.0.0.1:$((9700 + j))\""
    done
    "$BIN/concordat-node" --print-default-config \
      | sed "s/127.0.0.1:8700/127.0.0.1:$((8700 + i))/; s/127.0.0.1:9700/127.0.0.1:$((9700 + i))/; s/^peers = \[\]/peers = [$peers]/" \
      > "$home/config.toml"
  done
  echo "created a demo network in $DIR"
fi

for home in $(nodes); do
  i=${home##*node}
  if alive "$home"; then
    echo "node$i already running (pid $(cat "$home/pid"))"; continue
  fi
  nohup "$BIN/concordat-node" --home "$home" >>"$home/node.log" 2>&1 &
  echo $! >"$home/pid"
done

for home in $(nodes); do
  i=${home##*node}; port=$((8700 + i))
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/v1/status" >/dev/null && break
    if ! alive "$home"; then echo "node$i failed to start; see $home/node.log" >&2; tail -5 "$home/node.log" >&2; exit 1; fi
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/v1/status" >/dev/null || { echo "node$i did not answer on $port" >&2; exit 1; }
  echo "node$i: http://127.0.0.1:$port (log $home/node.log)"
done
cat <<MSG

Concordat localnet is running. Try:
  $BIN/concordat demo --node http://127.0.0.1:8700 --home $DIR --count 100
  open http://127.0.0.1:8700/ in a browser
Stop it with: scripts/localnet.sh stop
MSG
