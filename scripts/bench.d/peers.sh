#!/usr/bin/env bash
# scripts/bench peers — stick-table peers sync, tslb against HAProxy 2.6 (nbthread 1), same lab,
# same run, rounds interleaved (order alternated): replication latency from a write on the node
# to its arrival at a peer (p50/p90/p99), updates/s sustained under an HTTP load, and the time of a
# full resync of 100k and 1M entries. Prints medians and ratios tslb/HAProxy.
#
# Usage: scripts/bench peers [options]
#
#   --rounds N            rounds (default 2; env BENCH_ROUNDS)
#   --sizes LIST          comma list of table sizes for the full resync (default 100000,1000000)
#   --contenders LIST     comma list of tslb,haproxy (default both)
#   --lat-count N         latency samples per round (default 1500), sent at
#   --lat-rate R          R requests/s (default 200: well below what either proxy serves here)
#   --load-seconds S      sustained load duration (default 5)
#   --load-connections C  wrk connections of the sustained load (default 32)
#   --quick               1 round, sizes 100000, 1000 latency samples, 3 s load (a smoke test)
#   --markdown            also print the docs/benchmarks.md table
#   --out DIR             configs, logs and results.json (default /tmp/tslb-bench-peers-DATE)
#   -h, --help            this help
#
# Topology: a lab of its own (scripts/lab with a private prefix and /24, taken down at the end).
# The node under test runs on lb1 pinned to CPU1 (frontend :80 → nginx on web1; backend table
# `type string len 32 size 2m expire 30m peers bench`, written by `stick store-request
# req.hdr(x-key)`). The driver (scripts/bench.d/peers.ts) runs in `client`, on CPU0 with wrk and
# nginx: it is both the writer and `meas`, the other peer of the section (scripts/bench.d/
# peers-meas.ts, tslb's own peers codec), so send and arrival times come from one clock. The
# method of each measure is in the header of peers.ts.
#
# Exit status: 0 done; 1 failure; 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
NODE=/opt/tslb-node-24/bin/node
[[ -x $NODE ]] || NODE=node
PROG="bench peers"
ROUNDS=${BENCH_ROUNDS:-2}
ARGS=()
OUT=
COMMAND="scripts/bench peers${*:+ $*}"

usage() { awk 'NR >= 7 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 7 { exit }' "${BASH_SOURCE[0]}"; }
usage_error() { echo "$PROG: $*" >&2; echo "Try 'scripts/bench peers --help'." >&2; exit 2; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) need_arg "$@"; ROUNDS=$2; shift 2 ;;
    --sizes|--contenders|--lat-count|--lat-rate|--load-seconds|--load-connections) need_arg "$@"; ARGS+=("$1" "$2"); shift 2 ;;
    --quick) ROUNDS=1; ARGS+=(--sizes 100000 --lat-count 600 --load-seconds 3); shift ;;
    --markdown) ARGS+=(--markdown); shift ;;
    --out) need_arg "$@"; OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || usage_error "--rounds expects a positive integer"
[[ $(id -u) -eq 0 ]] || { echo "$PROG: needs root (network namespaces)" >&2; exit 1; }
for tool in /usr/sbin/haproxy nginx wrk taskset ip; do
  command -v "$tool" >/dev/null || { echo "$PROG: '$tool' is missing (scripts/setup installs it)" >&2; exit 1; }
done
[[ -n $OUT ]] || OUT=/tmp/tslb-bench-peers-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

PREFIX="tbp$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')-"
NET="198.19.$(( 16#$(head -c1 /dev/urandom | od -An -tx1 | tr -d ' \n') % 200 + 20 ))"
export TSLB_LAB_PREFIX=$PREFIX TSLB_LAB_NET=$NET
cleanup() { "$ROOT/scripts/lab" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "== lab $PREFIX ($NET.0/24)" >&2
"$ROOT/scripts/lab" up >/dev/null
ulimit -n 65536 2>/dev/null || true
echo "== $COMMAND (out: $OUT)" >&2
ip netns exec "${PREFIX}client" taskset -c 0 "$NODE" --disable-warning=ExperimentalWarning "$ROOT/scripts/bench.d/peers.ts" run \
  --prefix "$PREFIX" --net "$NET" --rounds "$ROUNDS" --out "$OUT" --command "$COMMAND" ${ARGS[@]+"${ARGS[@]}"}
