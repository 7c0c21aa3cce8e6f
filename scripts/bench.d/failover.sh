#!/usr/bin/env bash
# scripts/bench failover — how long the VIP is unreachable when the VRRP master dies (SIGKILL of
# the daemon and of the service behind the VIP) or stops cleanly (SIGTERM: priority-0 advert),
# tslb against keepalived 2.2.7, same lab, same run, rounds interleaved (order alternated).
#
# Usage: scripts/bench failover [options]
#
#   --rounds N        rounds per variant (default 3; env BENCH_ROUNDS)
#   --variants LIST   comma list of v2 (VRRPv2, advert_int 1 s) and v3fast (VRRPv3, advert_int
#                     0.1 s); default both
#   --quick           1 round of v3fast only (a smoke test, not a result)
#   --out DIR         where configs, logs, probe timelines and results.json go
#                     (default /tmp/tslb-bench-failover-DATE)
#   -h, --help        this help
#
# Topology: a lab of its own (scripts/lab with a private prefix and /24, taken down at the end):
# lb1 (priority 150) and lb2 (priority 100) run the contender and a tiny TCP service on port
# 7000 answering the node's name; the client connects to VIP:7000 every 20 ms (150 ms timeout).
# A gap is the time between the client's last successful connect before the event and its
# first one served by lb2 after it.
#
# Exit status: 0 done; 1 failure; 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
NODE=/opt/tslb-node-24/bin/node
[[ -x $NODE ]] || NODE=node
PROG="bench failover"
ROUNDS=${BENCH_ROUNDS:-3}
VARIANTS=v2,v3fast
OUT=

usage() { awk 'NR >= 6 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 6 { exit }' "${BASH_SOURCE[0]}"; }
usage_error() { echo "$PROG: $*" >&2; echo "Try 'scripts/bench failover --help'." >&2; exit 2; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) need_arg "$@"; ROUNDS=$2; shift 2 ;;
    --variants) need_arg "$@"; VARIANTS=$2; shift 2 ;;
    --quick) ROUNDS=1; VARIANTS=v3fast; shift ;;
    --out) need_arg "$@"; OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || usage_error "--rounds expects a positive integer"
[[ $(id -u) -eq 0 ]] || { echo "$PROG: needs root (network namespaces)" >&2; exit 1; }
[[ -x /usr/sbin/keepalived ]] || { echo "$PROG: keepalived is not installed (apt-get install keepalived)" >&2; exit 1; }
[[ -n $OUT ]] || OUT=/tmp/tslb-bench-failover-$(date +%Y%m%d-%H%M%S)

PREFIX="tbf$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')-"
NET="198.19.$(( 16#$(head -c1 /dev/urandom | od -An -tx1 | tr -d ' \n') % 200 + 20 ))"
export TSLB_LAB_PREFIX=$PREFIX TSLB_LAB_NET=$NET
cleanup() { "$ROOT/scripts/lab" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "== lab $PREFIX ($NET.0/24)" >&2
"$ROOT/scripts/lab" up >/dev/null
echo "== scripts/bench failover --rounds $ROUNDS --variants $VARIANTS" >&2
"$NODE" --disable-warning=ExperimentalWarning "$ROOT/scripts/bench.d/failover.ts" run \
  --prefix "$PREFIX" --net "$NET" --rounds "$ROUNDS" --variants "$VARIANTS" --out "$OUT"
