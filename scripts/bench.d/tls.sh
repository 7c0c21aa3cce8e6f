#!/usr/bin/env bash
# scripts/bench tls — TLS termination: tslb (one worker) against HAProxy 2.6 (nbthread 1), same
# certificate (ECDSA P-256, made for the run), same OpenSSL 3 library, same nginx backend, same wrk
# load, interleaved in one run. See docs/benchmarks.md.
#
# Usage: scripts/bench tls [options]
#
#   --rounds N          interleaved rounds (default 2)
#   --duration S        seconds measured per run (default 5)
#   --warmup S          seconds of discarded load before each run (default 1)
#   --connections N     wrk connections (default 50)
#   --out DIR           results, configs, logs (default /tmp/tslb-bench-tls-DATE)
#   --profile LOAD      instead: tslb alone under LOAD (keepalive or handshake) with --cpu-prof; prints
#                       the worker's top self-time functions and files (scripts/bench.d/cpuprofile-top.ts)
#   -h, --help          this help
#
# Loads: `keepalive` (wrk over https, keep-alive: the record layer) and `handshake` (wrk with
# `Connection: close`: one full handshake per request, wrk offers no session to resume).
# Topology: a private network namespace (loopback); the proxy on CPU0, wrk and nginx on CPU1.
# Exit status: 0 done; 1 failure; 2 usage; 3 some request failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
PROG="bench tls"
ROUNDS=2
DURATION=5
WARMUP=1
CONNS=50
OUT=
PROFILE=
COMMAND="scripts/bench tls${*:+ $*}"

usage() { awk 'NR >= 6 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 6 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: $*" >&2; exit 2; }
say() { echo "== $*" >&2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --connections) CONNS=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --profile) PROFILE=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
for v in ROUNDS DURATION CONNS; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || usage_error "${v,,} must be a positive integer"; done
[[ $EUID -eq 0 ]] || die "must run as root (network namespace, CPU pinning)"
for tool in haproxy nginx wrk openssl taskset ip; do command -v "$tool" >/dev/null || die "'$tool' is missing"; done
TSLB_BIN=$ROOT/bin/tslb
# shellcheck source=profile.sh
source "$ROOT/scripts/bench.d/profile.sh"

OUT=${OUT:-/tmp/tslb-bench-tls-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/nginx/tmp"
OUT=$(cd "$OUT" && pwd -P)
NS=tbench-tls-$$
STARTED=()
declare -A PORT=([haproxy]=8441 [tslb]=8442)
declare -A PIDS=()

cleanup() {
  local rc=$? i pid
  trap - EXIT INT TERM
  set +e
  for (( i = ${#STARTED[@]} - 1; i >= 0; i-- )); do kill -TERM "${STARTED[i]}" 2>/dev/null; done
  sleep 0.5
  if [[ -e /run/netns/$NS ]]; then
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    sleep 0.2
    ip netns del "$NS" 2>/dev/null
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
nsexec() { ip netns exec "$NS" "$@"; }
start_bg() {  # log cmd...
  local log=$1
  shift
  ip netns exec "$NS" "$@" </dev/null >"$log" 2>&1 &
  LAST_PID=$!
  STARTED+=("$LAST_PID")
  disown "$LAST_PID"
}

ip netns add "$NS"
ip -n "$NS" link set lo up
nsexec sh -c 'echo "1024 65000" > /proc/sys/net/ipv4/ip_local_port_range; echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse'

say "certificate: ECDSA P-256, self-signed, in $OUT"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$OUT/site.key" \
  -out "$OUT/site.crt" -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
cat "$OUT/site.crt" "$OUT/site.key" >"$OUT/site.pem"

cat >"$OUT/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/tmp; proxy_temp_path $OUT/nginx/tmp; fastcgi_temp_path $OUT/nginx/tmp;
    uwsgi_temp_path $OUT/nginx/tmp; scgi_temp_path $OUT/nginx/tmp;
    keepalive_requests 100000;
    server { listen 127.0.0.1:18081; location / { return 200 "web\n"; } }
}
EOF
start_bg "$OUT/nginx/start.log" taskset -c 1 nginx -p "$OUT/nginx/" -c "$OUT/nginx/nginx.conf"

write_cfg() {  # port — read by haproxy and tslb alike
  cat <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fe_https
    bind 127.0.0.1:$1 ssl crt $OUT/site.pem alpn http/1.1
    default_backend be
backend be
    http-reuse safe
    server web 127.0.0.1:18081
EOF
}

write_cfg "${PORT[haproxy]}" >"$OUT/haproxy.cfg"
haproxy -c -q -f "$OUT/haproxy.cfg" || die "haproxy rejects $OUT/haproxy.cfg"
start_bg "$OUT/haproxy.log" taskset -c 0 haproxy -db -f "$OUT/haproxy.cfg"
PIDS[haproxy]=$LAST_PID
write_cfg "${PORT[tslb]}" >"$OUT/tslb.cfg"
"$TSLB_BIN" check -f "$OUT/tslb.cfg" >/dev/null || die "tslb rejects $OUT/tslb.cfg"
PROF_ENV=()
[[ -n $PROFILE ]] && { mkdir -p "$OUT/prof"; PROF_ENV=(env "NODE_OPTIONS=--cpu-prof --cpu-prof-dir=$OUT/prof"); }
start_bg "$OUT/tslb.log" "${PROF_ENV[@]}" taskset -c 0 "$TSLB_BIN" run -f "$OUT/tslb.cfg" -S "$OUT/tslb.sock" -p "$OUT/tslb.pid"
PIDS[tslb]=$LAST_PID

for p in haproxy tslb; do
  ok=
  for (( i = 0; i < 100; i++ )); do
    [[ $(nsexec curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:${PORT[$p]}/" 2>/dev/null) == 200 ]] \
      && { ok=1; break; }
    sleep 0.2
  done
  [[ -n $ok ]] || die "$p does not answer over TLS (see $OUT/$p.log)"
  say "$p ready on 127.0.0.1:${PORT[$p]}"
done

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # proxy -> utime+stime of its processes (tslb: the supervisor and its worker)
  local pids=${PIDS[$1]} c t=0
  for c in $(pgrep -P "${PIDS[$1]}"); do pids="$pids $c"; done
  for c in $pids; do
    t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}

run_wrk() {  # proxy load seconds -> "req/s errors"
  local p=$1 load=$2 secs=$3 hdr=() out
  [[ $load == handshake ]] && hdr=(-H 'Connection: close')
  out=$(nsexec taskset -c 1 wrk -t1 -c"$CONNS" -d"${secs}s" "${hdr[@]}" "https://127.0.0.1:${PORT[$p]}/" 2>&1)
  echo "$out" >>"$OUT/wrk-$p-$load.log"
  local rps errs=0
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  if grep -q 'Non-2xx' <<<"$out"; then errs=$(awk '/Non-2xx/ { print $NF }' <<<"$out"); fi
  echo "${rps:-0} $errs"
}

if [[ -n $PROFILE ]]; then
  [[ $PROFILE == keepalive || $PROFILE == handshake ]] || usage_error "--profile takes keepalive or handshake"
  say "profile: $PROFILE load against tslb for ${DURATION}s under --cpu-prof"
  run_wrk tslb "$PROFILE" "$WARMUP" >/dev/null
  read -r rps errs < <(run_wrk tslb "$PROFILE" "$DURATION")
  say "$rps req/s ($errs errors)"
  profile_report "$OUT/tslb.pid" "$OUT/tslb.log" "$OUT/prof"
  exit 0
fi

declare -A RESULTS=() CPU=()
FAILED=0
for (( r = 1; r <= ROUNDS; r++ )); do
  for load in keepalive handshake; do
    order=(haproxy tslb)
    (( r % 2 == 0 )) && order=(tslb haproxy)
    for p in "${order[@]}"; do
      run_wrk "$p" "$load" "$WARMUP" >/dev/null
      t0=$(cpu_ticks "$p")
      read -r rps errs < <(run_wrk "$p" "$load" "$DURATION")
      t1=$(cpu_ticks "$p")
      (( errs == 0 )) || FAILED=1
      us=$(awk -v t=$(( t1 - t0 )) -v hz="$CLK_TCK" -v r="$rps" -v d="$DURATION" 'BEGIN { printf "%.1f", (r > 0) ? t / hz * 1e6 / (r * d) : 0 }')
      RESULTS[$p,$load]="${RESULTS[$p,$load]:-} $rps"
      CPU[$p,$load]="${CPU[$p,$load]:-} $us"
      say "round $r $load $p: $rps req/s, $us CPU µs/req ($errs errors)"
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "$COMMAND  (median of $ROUNDS rounds of ${DURATION}s, $CONNS connections; $(openssl version | cut -d' ' -f1-2))"
echo
echo "| load | HAProxy 2.6 req/s | tslb req/s | tslb / HAProxy | HAProxy CPU µs/req | tslb CPU µs/req | by CPU cost |"
echo "|---|---|---|---|---|---|---|"
for load in keepalive handshake; do
  h=$(median <<<"${RESULTS[haproxy,$load]}")
  t=$(median <<<"${RESULTS[tslb,$load]}")
  label="TLS keep-alive"
  [[ $load == handshake ]] && label="new TLS connections (Connection: close)"
  hc=$(median <<<"${CPU[haproxy,$load]}")
  tc=$(median <<<"${CPU[tslb,$load]}")
  printf '| %s | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx |\n' "$label" "$h" "$t" \
    "$(awk -v a="$t" -v b="$h" 'BEGIN { print (b > 0) ? a / b : 0 }')" "$hc" "$tc" \
    "$(awk -v a="$hc" -v b="$tc" 'BEGIN { print (b > 0) ? a / b : 0 }')"
done
(( FAILED == 0 )) || { echo "$PROG: some requests failed (see $OUT/wrk-*.log)" >&2; exit 3; }
