#!/usr/bin/env bash
# scripts/bench proxy — tslb (one worker) against HAProxy 2.6 (nbthread 1) and a plain Node
# http + keep-alive proxy, same nginx backends, same wrk load, same run, pinned the same way.
# See docs/benchmarks.md for the method and the recorded figures.
#
# Usage: scripts/bench proxy [options]
#
#   (no option)            the comparison: ROUNDS interleaved rounds (order rotated each round)
#                          of WARMUP s + DURATION s per proxy and load; prints medians, ratios,
#                          verdicts against the targets
#   --quick                1 round, 1 s warm-up, 3 s runs (a smoke test, not a result)
#   --rounds N             rounds (default 3; env BENCH_ROUNDS)
#   --duration S           seconds measured per run (default 8; env BENCH_DURATION)
#   --warmup S             seconds of discarded load before each run (default 2; env BENCH_WARMUP)
#   --connections N        wrk connections for the HTTP loads (default 50; env BENCH_CONNECTIONS)
#   --tcp-connections N    wrk connections for the TCP load (default 20; env BENCH_TCP_CONNECTIONS)
#   --threads N            nbthread N for tslb and HAProxy (default 1); above 1 the proxies get
#                          CPUs 0..N-1 and wrk runs N threads on every CPU (on a 2-core machine
#                          the load, the backends and the proxies then share both CPUs); tslb's
#                          record gets each proxy thread's share of the worker's proxy-thread CPU
#   --proxies LIST         comma list of haproxy,tslb,node (default all three)
#   --loads LIST           comma list of keepalive,close,tcp (default all three)
#   --markdown             also print the docs/benchmarks.md section
#   --soak MINUTES         instead: keep-alive load against tslb for MINUTES, the worker's RSS
#                          sampled every 10 s; prints start/end/max RSS
#   --profile              instead: tslb under the keep-alive load with --cpu-prof (through
#                          NODE_OPTIONS, inherited by the worker); prints the top self-time
#                          functions of the worker
#   --tslb PATH            the tslb command to measure (default: this checkout's bin/tslb)
#   --out DIR              where results, configs and logs go (default /tmp/tslb-bench-proxy-DATE)
#   -h, --help             this help
#
# A run during which other processes took more than 20% of CPU0 is measured again, up to 3
# times, keeping the least disturbed (env BENCH_NOISE_LIMIT=0.2, BENCH_ATTEMPTS=3).
#
# Topology: everything runs in a private network namespace created for the run (loopback only,
# so nothing collides with the lab, the tests or the demo, and per-namespace sysctls are ours):
# the proxy under test on CPU0, wrk and the backends (one nginx worker serving four ports,
# 127.0.0.1:18081-18084) on CPU1. tslb's supervisor and worker are both on CPU0 (taskset on
# the supervisor is inherited by the fork).
#
# Exit status: 0 done (targets met or not: read the verdicts); 1 failure; 2 usage;
# 3 the run finished but some request failed (errors must be 0).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
BENCH_D=$ROOT/scripts/bench.d
NODE=/opt/tslb-node-24/bin/node
PROG="bench proxy"

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-8}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-50}
TCP_CONNS=${BENCH_TCP_CONNECTIONS:-20}
THREADS=1
PROXIES_ARG=haproxy,tslb,node
LOADS_ARG=keepalive,close,tcp
MARKDOWN=0
SOAK=
PROFILE=0
OUT=
TSLB_BIN=
COMMAND="scripts/bench proxy${*:+ $*}"

usage() { awk 'NR >= 6 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 6 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: $*" >&2; echo "Try 'scripts/bench proxy --help'." >&2; exit 2; }
say() { echo "== $*" >&2; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"; }
is_uint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) ROUNDS=1; WARMUP=1; DURATION=3; shift ;;
    --rounds) need_arg "$@"; ROUNDS=$2; shift 2 ;;
    --duration) need_arg "$@"; DURATION=$2; shift 2 ;;
    --warmup) need_arg "$@"; WARMUP=$2; shift 2 ;;
    --connections) need_arg "$@"; CONNS=$2; shift 2 ;;
    --tcp-connections) need_arg "$@"; TCP_CONNS=$2; shift 2 ;;
    --threads) need_arg "$@"; THREADS=$2; shift 2 ;;
    --proxies) need_arg "$@"; PROXIES_ARG=$2; shift 2 ;;
    --loads) need_arg "$@"; LOADS_ARG=$2; shift 2 ;;
    --markdown) MARKDOWN=1; shift ;;
    --soak) need_arg "$@"; SOAK=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --out) need_arg "$@"; OUT=$2; shift 2 ;;
    --tslb) need_arg "$@"; TSLB_BIN=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
for v in ROUNDS DURATION CONNS TCP_CONNS THREADS; do is_uint "${!v}" || usage_error "${v,,} must be a positive integer (got '${!v}')"; done
[[ $WARMUP =~ ^[0-9]+$ ]] || usage_error "warmup must be a whole number of seconds (got '$WARMUP')"
[[ -z $SOAK ]] || is_uint "$SOAK" || usage_error "--soak takes a whole number of minutes (got '$SOAK')"
IFS=, read -r -a PROXIES <<<"$PROXIES_ARG"
IFS=, read -r -a LOADS <<<"$LOADS_ARG"
for p in "${PROXIES[@]}"; do [[ $p =~ ^(haproxy|tslb|node)$ ]] || usage_error "unknown proxy '$p' (haproxy, tslb, node)"; done
for l in "${LOADS[@]}"; do [[ $l =~ ^(keepalive|close|tcp)$ ]] || usage_error "unknown load '$l' (keepalive, close, tcp)"; done
if [[ -n $SOAK || $PROFILE == 1 ]]; then PROXIES=(tslb); LOADS=(keepalive); fi

[[ $EUID -eq 0 ]] || die "must run as root (network namespace, CPU pinning)"
(( $(nproc --all) >= 2 )) || die "needs 2 CPUs (proxy on CPU0, load and backends on CPU1)"

"$ROOT/scripts/setup" >&2
for tool in haproxy nginx wrk curl taskset ip; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (scripts/setup installs it)"
done
[[ -x $NODE ]] || die "$NODE missing (scripts/setup installs it)"
TSLB_BIN=${TSLB_BIN:-$ROOT/bin/tslb}
[[ -x $TSLB_BIN ]] || die "$TSLB_BIN is not executable"
TSLB_BIN=$(readlink -f "$TSLB_BIN")

STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-/tmp/tslb-bench-proxy-$STAMP}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
chmod 755 "$OUT"   # nginx workers (user nobody) read the static file below it
NS=tbench-proxy-$$
CLK_TCK=$(getconf CLK_TCK)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

BACKEND_PORTS=(18081 18082 18083 18084)
declare -A HTTP_PORT=([haproxy]=8001 [tslb]=8002 [node]=8003)
declare -A TCP_PORT=([haproxy]=9001 [tslb]=9002 [node]=9003)
declare -A PIDS=()        # proxy name -> pid(s) whose CPU time is the proxy's
declare -A MEM_PIDS=()    # proxy name -> pid(s) whose memory is the proxy's (tslb: also the standby), if not PIDS
STARTED=()                # every pid we started, stopped in reverse order on exit
BODY_BYTES=$((1024 * 1024))

# ------------------------------------------------------------------------------------ cleanup
cleanup() {
  local rc=$? pid i left
  trap - EXIT INT TERM
  set +e
  [[ -e /run/netns/$NS ]] && ip netns exec "$NS" ss -tanpi >"$OUT/sockets-at-exit.txt" 2>&1
  for (( i = ${#STARTED[@]} - 1; i >= 0; i-- )); do kill -TERM "${STARTED[i]}" 2>/dev/null; done
  for (( i = 0; i < 100; i++ )); do
    left=0
    for pid in "${STARTED[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    (( left )) || break
    sleep 0.1
  done
  for pid in "${STARTED[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  if [[ -e /run/netns/$NS ]]; then
    # anything still in our private namespace was started by this run (workers, wrk)
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    sleep 0.2
    ip netns del "$NS" 2>/dev/null
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "$PROG: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

nsexec() { ip netns exec "$NS" "$@"; }

# ------------------------------------------------------------------------------ the namespace
ip netns add "$NS"
ip -n "$NS" link set lo up
nsexec sh -c 'echo "1024 65000" > /proc/sys/net/ipv4/ip_local_port_range; echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse' 2>/dev/null || true

# ------------------------------------------------------------------------------------ backends
mkdir -p "$OUT/nginx/tmp" "$OUT/www"
head -c "$BODY_BYTES" /dev/urandom >"$OUT/www/1m"
chmod -R a+rX "$OUT/www"
{
  cat <<EOF
# generated by scripts/bench proxy: four backends in one nginx worker (CPU1)
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/tmp/client_body;
    proxy_temp_path $OUT/nginx/tmp/proxy;
    fastcgi_temp_path $OUT/nginx/tmp/fastcgi;
    uwsgi_temp_path $OUT/nginx/tmp/uwsgi;
    scgi_temp_path $OUT/nginx/tmp/scgi;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    keepalive_timeout 65s;
    types { }
    default_type text/plain;
EOF
  for i in 1 2 3 4; do
    cat <<EOF
    server {
        listen 127.0.0.1:${BACKEND_PORTS[i-1]};
        location = /1m { root $OUT/www; }
        location / { return 200 "web$i\n"; }
    }
EOF
  done
  echo "}"
} >"$OUT/nginx/nginx.conf"

start_bg() {  # logfile cmd... ; runs cmd in the namespace, records its pid in LAST_PID
  local log=$1
  shift
  ip netns exec "$NS" "$@" </dev/null >"$log" 2>&1 &
  LAST_PID=$!
  STARTED+=("$LAST_PID")
  disown "$LAST_PID"   # stopped by cleanup(); no "Killed" job notices
}

say "backends: nginx (1 worker, CPU1) on 127.0.0.1:${BACKEND_PORTS[*]} in namespace $NS"
start_bg "$OUT/nginx/start.log" taskset -c 1 nginx -p "$OUT/nginx/" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/error.log"

# ------------------------------------------------------------------------------------ proxies
server_lines() {
  local i
  for i in 1 2 3 4; do echo "    server web$i 127.0.0.1:${BACKEND_PORTS[i-1]}"; done
}

write_cfg() {  # name http-port tcp-port — HAProxy syntax, read by haproxy and by tslb alike
  cat <<EOF
# generated by scripts/bench proxy ($1)
global
    nbthread $THREADS
    maxconn 4000

defaults
    mode http
    option http-keep-alive
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 5s
    timeout http-keep-alive 10s

frontend fe_http
    bind 127.0.0.1:$2
    option forwardfor
    default_backend be_http

backend be_http
    balance roundrobin
    http-reuse safe
$(server_lines)

listen tcp_big
    bind 127.0.0.1:$3
    mode tcp
    balance roundrobin
$(server_lines)
EOF
}

# CPUs of the proxies and of the load: CPU0 and CPU1 apart with one thread, shared above.
PROXY_CPUS=0
LOAD_CPUS=1
if (( THREADS > 1 )); then
  PROXY_CPUS=0-$(( THREADS - 1 < $(nproc --all) - 1 ? THREADS - 1 : $(nproc --all) - 1 ))
  LOAD_CPUS=0-$(( $(nproc --all) - 1 ))
fi

start_proxy() {
  local p=$1 sup worker='' standby='' i c
  case $p in
    haproxy)
      write_cfg haproxy "${HTTP_PORT[haproxy]}" "${TCP_PORT[haproxy]}" >"$OUT/haproxy.cfg"
      haproxy -c -q -f "$OUT/haproxy.cfg" || die "haproxy rejects $OUT/haproxy.cfg"
      start_bg "$OUT/haproxy.log" taskset -c "$PROXY_CPUS" haproxy -db -f "$OUT/haproxy.cfg"
      PIDS[haproxy]=$LAST_PID
      ;;
    tslb)
      write_cfg tslb "${HTTP_PORT[tslb]}" "${TCP_PORT[tslb]}" >"$OUT/tslb.cfg"
      "$TSLB_BIN" check -f "$OUT/tslb.cfg" -L bench >"$OUT/tslb-check.log" 2>&1 \
        || { cat "$OUT/tslb-check.log" >&2; die "tslb rejects $OUT/tslb.cfg"; }
      # The worker logs one line per request on stdout (its traffic log); it is written, as in
      # production, and filtered on CPU1 so the kept log only has the other lines.
      ip netns exec "$NS" env TSLB_LOG_FORMAT=json ${TSLB_NODE_OPTIONS:+NODE_OPTIONS="$TSLB_NODE_OPTIONS"} \
        taskset -c "$PROXY_CPUS" "$TSLB_BIN" run -f "$OUT/tslb.cfg" -L bench -S "$OUT/tslb.sock" -p "$OUT/tslb.pid" \
        </dev/null > >(taskset -c 1 grep --line-buffered -v '"type":"traffic"' >"$OUT/tslb.log") 2>&1 &
      sup=$!
      STARTED+=("$sup")
      disown "$sup"
      for (( i = 0; i < 200; i++ )); do
        # The serving generation, as the supervisor names it: another worker-main child is the standby.
        worker=$("$TSLB_BIN" status -S "$OUT/tslb.sock" --json 2>/dev/null |
          "$NODE" -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8"))
            console.log(s.workers.find(w => w.state === "serving")?.pid ?? "")' 2>/dev/null || true)
        [[ -n ${worker:-} ]] && break
        kill -0 "$sup" 2>/dev/null || { cat "$OUT/tslb.log" >&2; die "tslb exited at start"; }
        sleep 0.1
      done
      [[ -n ${worker:-} ]] || die "tslb has no worker after 20 s (see $OUT/tslb.log)"
      PIDS[tslb]="$sup $worker"
      # The standby (the next generation's process, booted ahead) is part of the node's memory, not of its CPU.
      for (( i = 0; i < 100; i++ )); do
        standby=$("$TSLB_BIN" status -S "$OUT/tslb.sock" --json 2>/dev/null |
          "$NODE" -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8"))
            console.log(s.standby?.state === "booted" ? s.standby.pid : "")' 2>/dev/null || true)
        [[ -n ${standby:-} ]] && break
        sleep 0.1
      done
      MEM_PIDS[tslb]="$sup $worker${standby:+ $standby}"
      TSLB_SUP=$sup
      TSLB_WORKER=$worker
      ;;
    node)
      start_bg "$OUT/node-proxy.log" taskset -c "$PROXY_CPUS" "$NODE" --disable-warning=ExperimentalWarning "$BENCH_D/node-proxy.ts" \
        --http "127.0.0.1:${HTTP_PORT[node]}" --tcp "127.0.0.1:${TCP_PORT[node]}" \
        --backends "$(IFS=,; for p in "${BACKEND_PORTS[@]}"; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//')" \
        --max-sockets "$CONNS"
      PIDS[node]=$LAST_PID
      ;;
  esac
}

wait_http() {  # url
  local i
  for (( i = 0; i < 200; i++ )); do
    [[ $(nsexec curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2>/dev/null) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

wait_http "http://127.0.0.1:${BACKEND_PORTS[0]}/" || { cat "$OUT/nginx/error.log" >&2; die "nginx does not answer"; }
if (( PROFILE )); then
  mkdir -p "$OUT/prof"
  TSLB_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=$OUT/prof"
fi
for p in "${PROXIES[@]}"; do
  start_proxy "$p"
  wait_http "http://127.0.0.1:${HTTP_PORT[$p]}/" || { tail -n 20 "$OUT/$p"*.log >&2 2>/dev/null; die "$p does not answer on 127.0.0.1:${HTTP_PORT[$p]} (see $OUT)"; }
  # roundrobin over the four backends, and the TCP listener carries the large body intact
  urls=()
  for _ in 1 2 3 4 5 6 7 8; do urls+=("http://127.0.0.1:${HTTP_PORT[$p]}/"); done
  seen=$(nsexec curl -s --max-time 5 "${urls[@]}" | sort -u | tr '\n' ' ')
  [[ $seen == "web1 web2 web3 web4 " ]] || die "$p: 8 requests should reach web1..web4, got: $seen"
  size=$(nsexec curl -s -o /dev/null -w '%{size_download}' --max-time 5 "http://127.0.0.1:${TCP_PORT[$p]}/1m")
  [[ $size == "$BODY_BYTES" ]] || die "$p: TCP mode returned $size bytes of /1m, expected $BODY_BYTES"
  say "$p: ready (http 127.0.0.1:${HTTP_PORT[$p]}, tcp 127.0.0.1:${TCP_PORT[$p]}, pid ${PIDS[$p]})"
done

# ---------------------------------------------------------------------------------- the loads
url_of() {  # proxy load
  case $2 in
    tcp) echo "http://127.0.0.1:${TCP_PORT[$1]}/1m" ;;
    *) echo "http://127.0.0.1:${HTTP_PORT[$1]}/" ;;
  esac
}

wrk_run() {  # load url seconds outfile
  local conns=$CONNS close=0
  [[ $1 == tcp ]] && conns=$TCP_CONNS
  [[ $1 == close ]] && close=1
  nsexec env WRK_CONNECTION_CLOSE=$close taskset -c "$LOAD_CPUS" \
    wrk -t"$THREADS" -c"$conns" -d"$3"s --latency --timeout 2s -s "$BENCH_D/wrk-report.lua" "$2" >"$4" 2>&1 || true
}

ticks_of() {  # pids... -> summed utime+stime in clock ticks
  local t=0 p s
  local -a f
  for p in "$@"; do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -r -a f <<<"$s"
    t=$(( t + f[11] + f[12] ))
  done
  echo "$t"
}

cpu_stat() {  # "busy task total steal" jiffies of CPU0 then of CPU1 (task = user + nice + system)
  awk '$1 == "cpu0" || $1 == "cpu1" { task = $2 + $3 + $4; busy = task + $7 + $8; total = busy + $5 + $6 + $9; c[$1] = busy " " task " " total " " $9 }
       END { print c["cpu0"], c["cpu1"] }' /proc/stat
}

thread_ticks() {  # worker pid -> utime+stime ticks of each proxy thread (Node names them MainThread, WorkerThread)
  local t s
  local -a f
  for t in /proc/"$1"/task/*; do
    [[ $(cat "$t/comm" 2>/dev/null) =~ ^(MainThread|WorkerThread)$ ]] || continue
    s=$(cat "$t/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -r -a f <<<"$s"
    printf '%s:%d ' "${t##*/}" $(( f[11] + f[12] ))
  done
}

threads_json() {  # before after -> JSON array of each proxy thread's share of their CPU ticks
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, ":"); t0[kv[1]] = kv[2] }
    m = split(b, y, " "); sum = 0
    for (i = 1; i <= m; i++) { split(y[i], kv, ":"); d[i] = kv[2] - t0[kv[1]]; sum += d[i] }
    printf "["; for (i = 1; i <= m; i++) printf "%s%.3f", (i > 1 ? "," : ""), (sum > 0 ? d[i] / sum : 0); printf "]" }'
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Memory of each of the proxy's processes (tslb: supervisor, then worker), a JSON array. VmHWM is
# the process's peak RSS since it started; RssFile is mostly the executable's pages (for Node the
# same binary in supervisor and worker, shared between them, so a sum of RSS counts it twice).
mem_json() {  # pids...
  local p sep=''
  printf '['
  for p in "$@"; do
    awk -v sep="$sep" '/^VmHWM:/ { h = $2 } /^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
      END { printf "%s{\"hwm_kib\":%d,\"rss_kib\":%d,\"anon_kib\":%d,\"file_kib\":%d}", sep, h, r, a, f }' \
      "/proc/$p/status" 2>/dev/null || printf '%s{"hwm_kib":0,"rss_kib":0,"anon_kib":0,"file_kib":0}' "$sep"
    sep=,
  done
  printf ']'
}

RESULTS=$OUT/results.jsonl
ERRORS=0

NOISE_LIMIT=${BENCH_NOISE_LIMIT:-0.2}
ATTEMPTS=${BENCH_ATTEMPTS:-3}
# Above one thread the load shares the proxies' CPUs: CPU0's noise is not measurable apart.
(( THREADS > 1 )) && ATTEMPTS=1

measure_once() {  # round load proxy attempt -> prints the JSON record
  local r=$1 load=$2 p=$3 a=$4 url out json t0 t1 c0 c1 rss mem port linger
  url=$(url_of "$p" "$load")
  out=$OUT/wrk/$r-$load-$p.$a.txt
  (( WARMUP > 0 )) && wrk_run "$load" "$url" "$WARMUP" "$OUT/wrk/$r-$load-$p.$a.warmup.txt"
  # shellcheck disable=SC2086
  t0=$(ticks_of ${PIDS[$p]}); c0=$(cpu_stat)
  local th0='' th1=''
  [[ $p == tslb ]] && th0=$(thread_ticks "$TSLB_WORKER")
  wrk_run "$load" "$url" "$DURATION" "$out"
  # shellcheck disable=SC2086
  t1=$(ticks_of ${PIDS[$p]}); c1=$(cpu_stat)
  [[ $p == tslb ]] && th1=$(thread_ticks "$TSLB_WORKER")
  json=$(sed -n 's/^WRK_JSON //p' "$out")
  [[ -n $json ]] || { json='{"failed":true}'; echo "$PROG: wrk failed for $p/$load (see $out)" >&2; }
  rss=$(rss_kib "${PIDS[$p]##* }")   # the worker, for tslb
  # shellcheck disable=SC2086
  mem=$(mem_json ${MEM_PIDS[$p]:-${PIDS[$p]}})
  # wrk has exited and closed every connection: the proxy should have closed its side too
  sleep 1
  port=${url#http://127.0.0.1:}; port=${port%%/*}
  linger=$(nsexec ss -Htan "( sport = :$port )" | grep -c -v -e LISTEN -e TIME-WAIT || true)
  read -r b0 k0 tt0 s0 d0 e0 u0 v0 <<<"$c0"
  read -r b1 k1 tt1 s1 d1 e1 u1 v1 <<<"$c1"
  local conns=$CONNS
  [[ $load == tcp ]] && conns=$TCP_CONNS
  local shares=[]
  [[ -n $th1 ]] && shares=$(threads_json "$th0" "$th1")
  [[ $p == tslb && $THREADS -gt 1 ]] && echo "  (round $r $load tslb: each proxy thread's share of their CPU: $shares)" >&2
  printf '{"round":%d,"load":"%s","proxy":"%s","attempt":%d,"threads":%d,"thread_shares":%s,"connections":%d,"proxy_cpu_s":%s,"proxy_jiffies":%d,"cpu0":{"busy":%d,"task":%d,"total":%d,"steal":%d},"cpu1":{"busy":%d,"task":%d,"total":%d,"steal":%d},"rss_kib":%d,"mem":%s,"lingering":%d,"wrk":%s}\n' \
    "$r" "$load" "$p" "$a" "$THREADS" "$shares" "$conns" "$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz }')" $((t1 - t0)) \
    $((b1 - b0)) $((k1 - k0)) $((tt1 - tt0)) $((s1 - s0)) $((d1 - d0)) $((e1 - e0)) $((u1 - u0)) $((v1 - v0)) "$rss" "$mem" "$linger" "$json"
}

# Share of CPU0 that other processes took while the proxy was measured: CPU0's process time
# (user + nice + system) minus the proxy's own. Interrupt time is left out: it is mostly the
# proxy's own network traffic.
noise_of() {  # json record
  local task total proxy
  # shellcheck disable=SC2001
  task=$(sed 's/.*"cpu0":{[^}]*"task":\([0-9]*\).*/\1/' <<<"$1")
  total=$(sed 's/.*"cpu0":{[^}]*"total":\([0-9]*\).*/\1/' <<<"$1")
  proxy=$(sed 's/.*"proxy_jiffies":\([0-9]*\).*/\1/' <<<"$1")
  awk -v t="$task" -v n="$total" -v p="$proxy" 'BEGIN { x = n > 0 ? (t - p) / n : 0; printf "%.3f", x < 0 ? 0 : x }'
}

measure() {  # round load proxy — repeats a run that other processes disturbed (up to ATTEMPTS)
  local r=$1 load=$2 p=$3 a rec noise best='' best_noise=9
  mkdir -p "$OUT/wrk"
  for (( a = 1; a <= ATTEMPTS; a++ )); do
    rec=$(measure_once "$r" "$load" "$p" "$a")
    noise=$(noise_of "$rec")
    if awk -v x="$noise" -v y="$best_noise" 'BEGIN { exit !(x < y) }'; then best=$rec; best_noise=$noise; fi
    awk -v x="$noise" -v l="$NOISE_LIMIT" 'BEGIN { exit !(x <= l) }' && break
    (( a < ATTEMPTS )) && echo "  (round $r $load $p: other processes took $(awk -v x="$noise" 'BEGIN { printf "%d", x * 100 }')% of CPU0; measuring again)" >&2
  done
  grep -q '"failed":true' <<<"$best" && ERRORS=1
  echo "$best" >>"$RESULTS"
  "$NODE" --disable-warning=ExperimentalWarning "$BENCH_D/report.ts" --line "$RESULTS" >&2
}

check_alive() {
  local p
  for p in "${PROXIES[@]}"; do
    # shellcheck disable=SC2086
    for pid in ${PIDS[$p]}; do kill -0 "$pid" 2>/dev/null || die "$p (pid $pid) died during the run (see $OUT)"; done
  done
  if [[ -n ${TSLB_SUP:-} ]] && ! pgrep -P "$TSLB_SUP" | grep -qx "$TSLB_WORKER"; then
    die "the tslb worker was replaced during the run (pid $TSLB_WORKER gone; see $OUT/tslb.log)"
  fi
}

tslb_version() {  # commit of the checkout whose bin/tslb runs, "+changes" when src/ differs from it
  local dir
  dir=$(dirname "$(dirname "$TSLB_BIN")")
  if git -C "$dir" rev-parse --short HEAD >/dev/null 2>&1; then
    echo "$(git -C "$dir" rev-parse --short HEAD)$(git -C "$dir" diff --quiet HEAD -- src 2>/dev/null || echo '+changes')"
  else
    echo "$dir (not a git checkout)"
  fi
}

write_meta() {
  cat >"$OUT/meta.json" <<EOF
{"command":"$COMMAND","date":"$(date -u '+%Y-%m-%d %H:%M UTC')","rounds":$ROUNDS,"duration":$DURATION,"warmup":$WARMUP,
 "connections":$CONNS,"tcp_connections":$TCP_CONNS,"threads":$THREADS,"body_bytes":$BODY_BYTES,
 "cpus":"$(nproc --all) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)","kernel":"$(uname -r)",
 "haproxy":"$(haproxy -v | awk 'NR == 1 { print $3 }')","nginx":"$(nginx -v 2>&1 | sed 's|.*nginx/||')",
 "node":"$("$NODE" --version)","wrk":"$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')",
 "tslb":"$(tslb_version)"}
EOF
}

# ----------------------------------------------------------------------------------- the soak
if [[ -n $SOAK ]]; then
  say "soak: keep-alive load (-c$CONNS) against tslb for $SOAK min; worker pid $TSLB_WORKER RSS every 10 s"
  rss_idle=$(rss_kib "$TSLB_WORKER")
  (( WARMUP > 0 )) && wrk_run keepalive "$(url_of tslb keepalive)" "$WARMUP" "$OUT/soak-warmup.txt"
  mkdir -p "$OUT/wrk"
  nsexec env WRK_CONNECTION_CLOSE=0 taskset -c 1 \
    wrk -t1 -c"$CONNS" -d"$((SOAK * 60))"s --latency --timeout 2s -s "$BENCH_D/wrk-report.lua" "$(url_of tslb keepalive)" \
    >"$OUT/wrk/soak.txt" 2>&1 &
  wrk_pid=$!
  STARTED+=("$wrk_pid")
  echo "t_s rss_kib" >"$OUT/soak-rss.txt"
  start=$(date +%s)
  rss_start=$(rss_kib "$TSLB_WORKER"); rss_max=$rss_start; rss_end=$rss_start
  mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
  echo "  t=   0s  worker RSS $(mib "$rss_start") MiB (idle before the load: $(mib "$rss_idle") MiB)" >&2
  echo "0 $rss_start" >>"$OUT/soak-rss.txt"
  next=10
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 1
    now=$(( $(date +%s) - start ))
    if (( now >= next )) && kill -0 "$wrk_pid" 2>/dev/null; then
      check_alive
      rss_end=$(rss_kib "$TSLB_WORKER")
      (( rss_end > rss_max )) && rss_max=$rss_end
      echo "$now $rss_end" >>"$OUT/soak-rss.txt"
      printf '  t=%4ds  worker RSS %s MiB\n' "$now" "$(mib "$rss_end")" >&2
      next=$(( next + 10 ))
    fi
  done
  wait "$wrk_pid" || true
  check_alive
  sleep 1
  linger=$(nsexec ss -Htan "( sport = :${HTTP_PORT[tslb]} )" | grep -c -v -e LISTEN -e TIME-WAIT || true)
  (( linger == 0 )) || echo "  !! $linger client connection(s) still open 1 s after the load ended" >&2
  json=$(sed -n 's/^WRK_JSON //p' "$OUT/wrk/soak.txt")
  [[ -n $json ]] || die "wrk failed (see $OUT/wrk/soak.txt)"
  "$NODE" --disable-warning=ExperimentalWarning "$BENCH_D/report.ts" --soak "$json" \
    "$rss_idle" "$rss_start" "$rss_end" "$rss_max" "$SOAK" "$OUT/soak-rss.txt"
  exit $?
fi

# -------------------------------------------------------------------------------- the profile
if (( PROFILE )); then
  say "profile: keep-alive load (-c$CONNS) against tslb for ${DURATION}s under --cpu-prof"
  (( WARMUP > 0 )) && wrk_run keepalive "$(url_of tslb keepalive)" "$WARMUP" "$OUT/profile-warmup.txt"
  wrk_run keepalive "$(url_of tslb keepalive)" "$DURATION" "$OUT/profile-wrk.txt"
  check_alive
  grep -E 'Requests/sec|Socket errors|Non-2xx' "$OUT/profile-wrk.txt" >&2 || true
  # The worker writes its profile when it exits; it exits when its supervisor goes away. A
  # graceful stop waits for client connections to close, so fall back to SIGKILL after 5 s.
  kill -TERM "$TSLB_SUP"
  for (( i = 0; i < 50; i++ )); do kill -0 "$TSLB_SUP" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$TSLB_SUP" 2>/dev/null; then
    echo "$PROG: tslb did not stop within 5 s of SIGTERM (connections left open?); killing the supervisor" >&2
    kill -KILL "$TSLB_SUP"
  fi
  for (( i = 0; i < 150; i++ )); do kill -0 "$TSLB_WORKER" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$TSLB_WORKER" 2>/dev/null && die "the tslb worker did not exit; no profile"
  sleep 0.5
  prof=$(find "$OUT/prof" -name "*.$TSLB_WORKER.*.cpuprofile" | head -1)
  [[ -n $prof ]] || die "no profile of the worker (pid $TSLB_WORKER) in $OUT/prof"
  "$NODE" --disable-warning=ExperimentalWarning "$BENCH_D/cpuprofile-top.ts" "$prof" 30
  echo "(profile: $prof — open it in Chrome DevTools or speedscope)" >&2
  exit 0
fi

# ------------------------------------------------------------------------------ the comparison
write_meta
: >"$RESULTS"
n=${#PROXIES[@]}
say "$ROUNDS round(s) x ${#LOADS[@]} load(s) x $n prox(ies): ${WARMUP}s warm-up + ${DURATION}s each; results in $OUT"
for (( r = 1; r <= ROUNDS; r++ )); do
  for load in "${LOADS[@]}"; do
    for (( k = 0; k < n; k++ )); do
      p=${PROXIES[(k + r - 1) % n]}   # rotate the order each round
      measure "$r" "$load" "$p"
    done
    check_alive
  done
done

args=(--summary "$RESULTS" "$OUT/meta.json")
(( MARKDOWN )) && args+=(--markdown)
status=0
"$NODE" --disable-warning=ExperimentalWarning "$BENCH_D/report.ts" "${args[@]}" || status=$?
(( ERRORS )) && status=3
echo "(raw results, configs and logs: $OUT)" >&2
exit "$status"
