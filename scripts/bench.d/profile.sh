# Sourced by scripts/bench.d/{tls,h2}.sh for `--profile`: stops the tslb started with
# NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" (the worker inherits it) and prints the worker's
# profile summary (scripts/bench.d/cpuprofile-top.ts).

# profile_report PIDFILE LOG DIR: SIGTERM to the supervisor, wait for its worker (the last one its log names) to
# write its profile, summarise it.
profile_report() {
  local pidfile=$1 log=$2 dir=$3 sup worker i prof
  sup=$(cat "$pidfile")
  worker=$(grep -o '"workerPid":[0-9]*' "$log" | tail -1 | cut -d: -f2)
  [[ -n $worker ]] || { echo "profile: no worker pid in $log" >&2; return 1; }
  # A graceful stop waits for the clients' connections (a handshake the client left half-open lasts until
  # `timeout client`): after 5 s the supervisor is killed, and its worker, losing it, exits and writes its profile.
  kill -TERM "$sup"
  for (( i = 0; i < 50; i++ )); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$sup" 2>/dev/null && kill -KILL "$sup"
  for (( i = 0; i < 150; i++ )); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$worker" 2>/dev/null && { echo "profile: the worker ($worker) did not exit" >&2; return 1; }
  sleep 0.5
  prof=$(find "$dir" -name "*.$worker.*.cpuprofile" | head -1)
  [[ -n $prof ]] || { echo "profile: no profile of the worker (pid $worker) in $dir" >&2; return 1; }
  /opt/tslb-node-24/bin/node --disable-warning=ExperimentalWarning "$(dirname "${BASH_SOURCE[0]}")/cpuprofile-top.ts" \
    "$prof" 30
  echo "(profile: $prof — open it in Chrome DevTools or speedscope)" >&2
}
