#!/usr/bin/env bash
# scripts/bench h2 — HTTP/2 from clients (h2c, `bind … proto h2`; ALPN h2 with --tls): tslb (one worker) against
# HAProxy 2.6 (nbthread 1), same nginx backend (HTTP/1.1, keep-alive), same h2load load, interleaved in one run.
# See docs/benchmarks.md.
#
# Usage: scripts/bench h2 [options]
#
#   --rounds N          interleaved rounds (default 3)
#   --duration S        seconds measured per run (default 5)
#   --warmup S          seconds of discarded load before each run (default 1)
#   --clients N         h2load connections (default 10)
#   --streams N         concurrent streams per connection (default 10)
#   --out DIR           results, configs, logs (default /tmp/tslb-bench-h2-DATE)
#   --tls               HTTP/2 over TLS (`bind … ssl crt … alpn h2`, ECDSA P-256 made for the run) instead of h2c
#   --profile           instead: tslb alone under the load with --cpu-prof; prints the worker's top
#                       self-time functions and files (scripts/bench.d/cpuprofile-top.ts)
#   -h, --help          this help
#
# Topology: a private network namespace (loopback); the proxy on CPU0, h2load and nginx on CPU1. Prints req/s and the
# proxy's CPU time per request (utime+stime of its processes over the run), medians of the rounds, and the ratios.
# Exit status: 0 done; 1 failure; 2 usage; 3 some request failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
PROG="bench h2"
ROUNDS=3
DURATION=5
WARMUP=1
CLIENTS=10
STREAMS=10
OUT=
PROFILE=0
TLS=0
COMMAND="scripts/bench h2${*:+ $*}"

usage() { awk 'NR >= 6 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 6 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: $*" >&2; exit 2; }
say() { echo "== $*" >&2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --clients) CLIENTS=${2:?}; shift 2 ;;
    --streams) STREAMS=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --tls) TLS=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
for v in ROUNDS DURATION CLIENTS STREAMS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || usage_error "${v,,} must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || usage_error "warmup must be a whole number of seconds"
[[ $EUID -eq 0 ]] || die "must run as root (network namespace, CPU pinning)"
for tool in haproxy nginx h2load curl taskset ip; do command -v "$tool" >/dev/null || die "'$tool' is missing"; done
TSLB_BIN=$ROOT/bin/tslb
# shellcheck source=profile.sh
source "$ROOT/scripts/bench.d/profile.sh"

OUT=${OUT:-/tmp/tslb-bench-h2-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/nginx/tmp"
OUT=$(cd "$OUT" && pwd -P)
NS=tbench-h2-$$
STARTED=()
declare -A PORT=([haproxy]=8201 [tslb]=8202)
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
    keepalive_requests 1000000;
    server { listen 127.0.0.1:18081; location / { return 200 "web\n"; } }
}
EOF
start_bg "$OUT/nginx/start.log" taskset -c 1 nginx -p "$OUT/nginx/" -c "$OUT/nginx/nginx.conf"

SCHEME=http
BIND_OPTS="proto h2"
CURL_OPTS=(--http2-prior-knowledge)
LABEL=h2c
if (( TLS )); then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$OUT/site.key" \
    -out "$OUT/site.crt" -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
  cat "$OUT/site.crt" "$OUT/site.key" >"$OUT/site.pem"
  SCHEME=https
  BIND_OPTS="ssl crt $OUT/site.pem alpn h2"
  CURL_OPTS=(-k --http2)
  LABEL="TLS, ALPN h2"
fi

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
frontend fe_h2
    bind 127.0.0.1:$1 $BIND_OPTS
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
(( PROFILE )) && { mkdir -p "$OUT/prof"; PROF_ENV=(env "NODE_OPTIONS=--cpu-prof --cpu-prof-dir=$OUT/prof"); }
start_bg "$OUT/tslb.log" "${PROF_ENV[@]}" taskset -c 0 "$TSLB_BIN" run -f "$OUT/tslb.cfg" -S "$OUT/tslb.sock" -p "$OUT/tslb.pid"
PIDS[tslb]=$LAST_PID

for p in haproxy tslb; do
  ok=
  for (( i = 0; i < 100; i++ )); do
    [[ $(nsexec curl -s "${CURL_OPTS[@]}" -o /dev/null -w '%{http_code} %{http_version}' \
      "$SCHEME://127.0.0.1:${PORT[$p]}/" 2>/dev/null) == "200 2" ]] && { ok=1; break; }
    sleep 0.2
  done
  [[ -n $ok ]] || die "$p does not answer HTTP/2 (see $OUT/$p.log)"
  say "$p ready on 127.0.0.1:${PORT[$p]}"
done

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # proxy -> utime+stime of its processes (tslb: every process under the one started)
  local pids=${PIDS[$1]} c g t=0
  for c in $(pgrep -P "${PIDS[$1]}"); do
    pids="$pids $c"
    for g in $(pgrep -P "$c"); do pids="$pids $g"; done
  done
  for c in $pids; do
    t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}

run_h2load() {  # proxy seconds -> "req/s failed"
  local p=$1 secs=$2 out
  out=$(nsexec taskset -c 1 h2load -c"$CLIENTS" -m"$STREAMS" -D"$secs" "$SCHEME://127.0.0.1:${PORT[$p]}/" 2>&1) || true
  echo "$out" >>"$OUT/h2load-$p.log"
  local rps failed
  rps=$(awk '/^finished in/ { print $4 }' <<<"$out")
  failed=$(awk '/^requests:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^failed/) print $i }' <<<"$out")
  echo "${rps:-0} ${failed:-1}"
}

if (( PROFILE )); then
  say "profile: h2load -c$CLIENTS -m$STREAMS against tslb for ${DURATION}s under --cpu-prof"
  (( WARMUP > 0 )) && run_h2load tslb "$WARMUP" >/dev/null
  read -r rps failed < <(run_h2load tslb "$DURATION")
  say "$rps req/s ($failed failed)"
  profile_report "$OUT/tslb.pid" "$OUT/tslb.log" "$OUT/prof"
  exit 0
fi

declare -A RPS=() CPU=()
FAILED=0
for (( r = 1; r <= ROUNDS; r++ )); do
  order=(haproxy tslb)
  (( r % 2 == 0 )) && order=(tslb haproxy)
  for p in "${order[@]}"; do
    (( WARMUP > 0 )) && run_h2load "$p" "$WARMUP" >/dev/null
    t0=$(cpu_ticks "$p")
    read -r rps failed < <(run_h2load "$p" "$DURATION")
    t1=$(cpu_ticks "$p")
    (( failed == 0 )) || FAILED=1
    us=$(awk -v t=$(( t1 - t0 )) -v hz="$CLK_TCK" -v r="$rps" -v d="$DURATION" \
      'BEGIN { printf "%.1f", (r > 0) ? t / hz * 1e6 / (r * d) : 0 }')
    RPS[$p]="${RPS[$p]:-} $rps"
    CPU[$p]="${CPU[$p]:-} $us"
    say "round $r $p: $rps req/s, $us CPU µs/req ($failed failed)"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
h=$(median <<<"${RPS[haproxy]}")
t=$(median <<<"${RPS[tslb]}")
hc=$(median <<<"${CPU[haproxy]}")
tc=$(median <<<"${CPU[tslb]}")
echo
echo "$COMMAND  (median of $ROUNDS rounds of ${DURATION}s; h2load -c$CLIENTS -m$STREAMS, $LABEL)"
echo
echo "| load | HAProxy 2.6 req/s | tslb req/s | tslb / HAProxy | HAProxy CPU µs/req | tslb CPU µs/req | by CPU cost |"
echo "|---|---|---|---|---|---|---|"
printf '| HTTP/2 (%s), %d×%d streams | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx |\n' "$LABEL" "$CLIENTS" "$STREAMS" "$h" "$t" \
  "$(awk -v a="$t" -v b="$h" 'BEGIN { print (b > 0) ? a / b : 0 }')" "$hc" "$tc" \
  "$(awk -v a="$hc" -v b="$tc" 'BEGIN { print (b > 0) ? a / b : 0 }')"
(( FAILED == 0 )) || { echo "$PROG: some requests failed (see $OUT/h2load-*.log)" >&2; exit 3; }
