#!/usr/bin/env bash
# scripts/bench reload — requests lost while the proxy reloads again and again under load:
# tslb (`tslb reload --seamless`) against HAProxy 2.6 master-worker (-W, SIGUSR2) and HAProxy's
# classic `-sf` reload (without and with -x socket transfer), same lab, same open-loop load,
# same number of reloads, one after the other in one run. See docs/benchmarks.md ("Reload").
#
# Usage: scripts/bench reload [options]
#
#   --reloads N         reloads per contender (default 50), every INTERVAL ms ±20% after the
#                       previous one returned, alternating configurations A and B
#   --interval-ms MS    pause between reloads (default 500)
#   --quick             10 reloads, tslb and HAProxy -W only (a smoke test, not a result)
#   --contenders LIST   comma list of tslb, haproxy-W, haproxy-sf, haproxy-sf-x
#                       (default all four)
#   --strategy LIST     tslb's reload strategy, passed as `tslb reload --strategy S`; a comma
#                       list runs tslb once per strategy (default handoff)
#   --tslb-option LIST  also run tslb with `option NAME` in its defaults, once per NAME (e.g.
#                       idle-close-on-response); HAProxy 2.6 does not know every such option
#   --rate-new R        stream (a): requests/s, a new TCP connection each (default 200)
#   --rate-ka R         stream (b): requests/s over the keep-alive connections (default 200)
#   --ka-conns C        stream (b): keep-alive connections (default 16)
#   --rate-slow R       stream (c): requests/s that take 2 s at the backend (default 10)
#   --out DIR           where configs, logs, request records and results.json go
#                       (default /tmp/tslb-bench-reload-DATE)
#   -h, --help          this help
#
# Topology: a lab of its own (scripts/lab with a private prefix and /24 in 198.18.0.0/15, taken
# down at the end, also on failure or Ctrl-C): the proxy under test in lb1 on CPU0; the load
# generator (scripts/bench.d/reload-load.ts, open loop, 5 s timeout) in client, the lab's nginx
# on web1..web4 and the two slow backends on CPU1.
#
# Exit status: 0 done and tslb met every criterion; 1 failure; 2 usage; 3 the run finished but
# tslb missed a criterion (a failed request, a reset, a latency >= 1 s, ...).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
NODE=/opt/tslb-node-24/bin/node
[[ -x $NODE ]] || NODE=node
PROG="bench reload"
COMMAND="scripts/bench reload${*:+ $*}"
RELOADS=50
INTERVAL=500
CONTENDERS=tslb,haproxy-W,haproxy-sf,haproxy-sf-x
STRATEGY=handoff
TSLB_OPTION=
RATE_NEW=200
RATE_KA=200
KA_CONNS=16
RATE_SLOW=10
OUT=

usage() { awk 'NR >= 7 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 7 { exit }' "${BASH_SOURCE[0]}"; }
usage_error() { echo "$PROG: $*" >&2; echo "Try 'scripts/bench reload --help'." >&2; exit 2; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --reloads) need_arg "$@"; RELOADS=$2; shift 2 ;;
    --interval-ms) need_arg "$@"; INTERVAL=$2; shift 2 ;;
    --quick) RELOADS=10; CONTENDERS=tslb,haproxy-W; shift ;;
    --contenders) need_arg "$@"; CONTENDERS=$2; shift 2 ;;
    --strategy) need_arg "$@"; STRATEGY=$2; shift 2 ;;
    --tslb-option) need_arg "$@"; TSLB_OPTION=$2; shift 2 ;;
    --rate-new) need_arg "$@"; RATE_NEW=$2; shift 2 ;;
    --rate-ka) need_arg "$@"; RATE_KA=$2; shift 2 ;;
    --ka-conns) need_arg "$@"; KA_CONNS=$2; shift 2 ;;
    --rate-slow) need_arg "$@"; RATE_SLOW=$2; shift 2 ;;
    --out) need_arg "$@"; OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
for v in RELOADS INTERVAL KA_CONNS; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || usage_error "${v,,} must be a positive integer (got '${!v}')"; done
for v in RATE_NEW RATE_KA RATE_SLOW; do [[ ${!v} =~ ^[0-9]+$ ]] || usage_error "${v,,} must be a whole number of requests/s (got '${!v}')"; done
IFS=, read -r -a _c <<<"$CONTENDERS"
for c in "${_c[@]}"; do [[ $c =~ ^(tslb|haproxy-W|haproxy-sf|haproxy-sf-x)$ ]] || usage_error "unknown contender '$c' (tslb, haproxy-W, haproxy-sf, haproxy-sf-x)"; done
IFS=, read -r -a _s <<<"$STRATEGY"
for s in "${_s[@]}"; do [[ $s =~ ^(handoff|syn-drop|tc-plug|iptables-flip)$ ]] || usage_error "unknown strategy '$s' (handoff, syn-drop, tc-plug, iptables-flip)"; done
[[ $TSLB_OPTION =~ ^[a-z0-9,-]*$ ]] || usage_error "--tslb-option expects option names (got '$TSLB_OPTION')"
[[ $(id -u) -eq 0 ]] || { echo "$PROG: needs root (network namespaces, CPU pinning)" >&2; exit 1; }
(( $(nproc --all) >= 2 )) || { echo "$PROG: needs 2 CPUs (proxy on CPU0, load and backends on CPU1)" >&2; exit 1; }
for tool in haproxy nginx nstat taskset ip; do
  command -v "$tool" >/dev/null || { echo "$PROG: '$tool' is missing (scripts/setup installs it)" >&2; exit 1; }
done
[[ -n $OUT ]] || OUT=/tmp/tslb-bench-reload-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

# the load generator holds up to rate x 5 s connections when the proxy stalls
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PREFIX="tbr$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')-"
NET="198.19.$(( 16#$(head -c1 /dev/urandom | od -An -tx1 | tr -d ' \n') % 200 + 20 ))"
export TSLB_LAB_PREFIX=$PREFIX TSLB_LAB_NET=$NET TSLB_LAB_ACCESS_LOG=off
RUNNER=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n $RUNNER ]] && kill -0 "$RUNNER" 2>/dev/null; then
    kill -TERM "$RUNNER" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RUNNER" 2>/dev/null
  fi
  # scripts/lab down kills every process left in the lab's namespaces (proxies, HAProxy
  # daemons, the load generator, the slow backends), then removes the namespaces and links.
  "$ROOT/scripts/lab" down >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "$PROG: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

echo "== lab $PREFIX ($NET.0/24)" >&2
"$ROOT/scripts/lab" up >/dev/null
for node in client lb1; do
  # many short connections from the client (TIME_WAIT) and from the proxy to the backends
  ip netns exec "$PREFIX$node" sh -c 'echo "1024 65000" > /proc/sys/net/ipv4/ip_local_port_range; echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse' 2>/dev/null || true
done
for node in web1 web2 web3 web4; do
  for pid in $(ip netns pids "$PREFIX$node"); do taskset -a -p -c 1 "$pid" >/dev/null 2>&1 || true; done
done
echo "== $COMMAND (out: $OUT)" >&2
echo "== machine: $(nproc) CPUs, $(uname -r), $(haproxy -v | awk 'NR == 1 { print "HAProxy " $3 }'), node $("$NODE" --version), tslb $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), somaxconn $(cat /proc/sys/net/core/somaxconn), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
set +e
"$NODE" --disable-warning=ExperimentalWarning "$ROOT/scripts/bench.d/reload.ts" run \
  --prefix "$PREFIX" --net "$NET" --reloads "$RELOADS" --interval-ms "$INTERVAL" \
  --contenders "$CONTENDERS" --strategy "$STRATEGY" --tslb-option "$TSLB_OPTION" --rate-new "$RATE_NEW" --rate-ka "$RATE_KA" \
  --ka-conns "$KA_CONNS" --rate-slow "$RATE_SLOW" --out "$OUT" --command "$COMMAND" &
RUNNER=$!
wait "$RUNNER"
rc=$?
set -e
RUNNER=
exit "$rc"
