#!/usr/bin/env bash
# vagrant/provision.sh — provision one node of a tslb lab (the Vagrant VMs of
# vagrant/Vagrantfile; the same script serves the systemd-nspawn lab). Idempotent, as root.
#
#   provision.sh lb NAME [--src DIR] [--no-start] [--no-install] [CLUSTER...] WEB=IP[:PORT]...
#       tslb from the checkout DIR (default: the checkout this script is in) through
#       scripts/install, then /etc/tslb/tslb.cfg written from the cluster template below
#       (NAME is lb1, lb2 or lb3). The file is validated (tslb check) before it replaces the
#       old one; then tslb is started, reloaded (configuration changed) or restarted (product
#       or unit changed). --no-start: install and configure only (an image being built, a
#       chroot). --no-install: configure only (a node made from an image this script installed
#       tslb in, as the systemd-nspawn lab does).
#   provision.sh config NAME [CLUSTER...] WEB=IP[:PORT]...
#       print that cluster configuration of node NAME (scripts/demo runs its nodes with it).
#       CLUSTER options: --net NET (first three octets, default $TSLB_LAB_NET or 198.18.0:
#       peers NET.11-13, VIPs NET.100 and NET.101), --iface IF (default: the interface with
#       the node's address, else eth0), --stats PATH (default /run/tslb/stats.sock).
#   provision.sh web NAME
#       nginx answering "NAME\n" on ports 80 and 81 (/health answers "ok\n", /echo-headers
#       "xff=...\ncookie=...\n", /login sets JSESSIONID, every answer carries X-Served-By:
#       NAME), like the web nodes of the namespace lab (scripts/lab).
#   provision.sh client NAME
#       curl, for the failover drill's requests (vagrant/drill).
set -euo pipefail

PROG=provision
log() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
usage_error() { printf '%s: %s\n' "$PROG" "$*" >&2; usage >&2; exit 2; }

case ${1:-} in -h | --help) usage; exit 0 ;; esac
(($# >= 2)) || usage_error "need a role (lb, web, client or config) and a node name"
ROLE=$1 NAME=$2
[[ $ROLE == config || $(id -u) == 0 ]] || die "run as root"
shift 2
[[ $NAME =~ ^[a-z][a-z0-9-]*$ ]] || usage_error "bad node name: $NAME"

export DEBIAN_FRONTEND=noninteractive
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

systemd_running() {
  [[ -d /run/systemd/system ]] && ! systemd-detect-virt --quiet --chroot 2>/dev/null
}

# The node's host name (in a chroot, the one it will boot with).
check_hostname() {
  local h why=${1:-}
  if systemd_running; then h=$(hostname); else h=$(cat /etc/hostname 2>/dev/null || true); fi
  [[ $h == "$NAME" ]] || log "warning: the host name is '$h', not '$NAME'$why"
}

quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    die "failed: $*"
  fi
}

# ---------------------------------------------------------------------------------------------
# web: nginx answering with the node's name
# ---------------------------------------------------------------------------------------------
provision_web() {
  (($# == 0)) || usage_error "web: unexpected argument: $1"
  local debs=() p
  for p in nginx curl; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || debs+=("$p")
  done
  if ((${#debs[@]})); then
    log "apt-get install ${debs[*]}"
    quiet apt-get update -q
    quiet apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "${debs[@]}"
  fi
  local site=/etc/nginx/sites-available/tslb-lab
  cat >"$site.new" <<EOF
# Written by vagrant/provision.sh (tslb lab web node $NAME): re-provisioning overwrites it.
server {
    listen 80 default_server;
    listen 81 default_server;
    server_name _;
    default_type text/plain;
    add_header X-Served-By $NAME always;

    location = /health {
        return 200 "ok\n";
    }
    location = /echo-headers {
        return 200 "xff=\$http_x_forwarded_for\ncookie=\$http_cookie\n";
    }
    location = /login {
        add_header Set-Cookie "JSESSIONID=$NAME-\$connection-\$connection_requests; path=/" always;
        return 200 "$NAME\ncookie=\$http_cookie\n";
    }
    location / {
        return 200 "$NAME\n";
    }
}
EOF
  local changed=0
  if ! cmp -s "$site.new" "$site"; then
    mv -f "$site.new" "$site"
    changed=1
  else
    rm -f "$site.new"
  fi
  if [[ -e /etc/nginx/sites-enabled/default || ! -L /etc/nginx/sites-enabled/tslb-lab ]]; then
    rm -f /etc/nginx/sites-enabled/default
    ln -sfn "$site" /etc/nginx/sites-enabled/tslb-lab
    changed=1
  fi
  nginx -t -q || die "nginx configuration test failed"
  if systemd_running; then
    systemctl enable --quiet nginx
    if ! systemctl is-active --quiet nginx; then
      systemctl start nginx
    elif ((changed)); then
      systemctl reload nginx
    fi
    log "web $NAME: nginx $(systemctl is-active nginx), answering '$NAME' on ports 80 and 81"
  else
    log "web $NAME: nginx configured (systemd not running: not started)"
  fi
  check_hostname
}

# ---------------------------------------------------------------------------------------------
# lb: tslb through scripts/install, configuration from the template
# ---------------------------------------------------------------------------------------------
# The cluster configuration of every lab (the Vagrant VMs, the systemd-nspawn lab, scripts/demo):
# seed 000's stick table on the application's JSESSIONID cookie replicated by a peers section,
# seed 001's cookie prefix (`listen` on :8080), and two VRRPv3 instances with 100 ms adverts,
# active-active: lb1 is master of VIP .100, lb2 of VIP .101, lb3 backs both up.
cluster_config() { # NAME NET IFACE STATS WEB=IP[:PORT]...
  local name=$1 net=$2 iface=$3 stats=$4 w wname addr letter i=0 state1=BACKUP state2=BACKUP prio1 prio2
  shift 4
  case $name in
    lb1) prio1=150 prio2=100 ;;
    lb2) prio1=100 prio2=150 ;;
    *) prio1=50 prio2=50 ;;
  esac
  ((prio1 == 150)) && state1=MASTER
  ((prio2 == 150)) && state2=MASTER
  cat <<EOF
# /etc/tslb/tslb.cfg on $name — written by vagrant/provision.sh from its template:
# re-provisioning overwrites it (edit the template, or the Vagrantfile's web list).
# Every node has the same file but for the VRRP priorities (see docs/lab.md).
global
    maxconn 4000
    log stdout local0
    stats socket $stats mode 600 level admin

# Seed 000: the stick table is pushed to every other node (-L or the host name is the local peer).
peers lb_peers
    peer lb1 $net.11:10000
    peer lb2 $net.12:10000
    peer lb3 $net.13:10000

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 5s
    timeout http-keep-alive 10s
    timeout check 2s

frontend www
    bind *:80
    # what chk_proxy asks: this node's proxy answers
    monitor-uri /tslb-health
    default_backend webfarm

# Seed 000: a session sticks to the server that set its JSESSIONID, on every node.
backend webfarm
    balance roundrobin
    option httpchk GET /health
    stick-table type string len 64 size 100k expire 30m peers lb_peers
    stick on req.cook(JSESSIONID)
    stick store-response res.cook(JSESSIONID)
EOF
  for w in "$@"; do
    wname=${w%%=*} addr=${w#*=}
    [[ $addr == *:* ]] || addr=$addr:80
    printf '    server %s %s check inter 2s\n' "$wname" "$addr"
  done
  cat <<EOF

# Seed 001: the server's cookie value as a prefix of the application's JSESSIONID (no table).
listen webfarm-prefix
    bind *:8080
    balance roundrobin
    cookie JSESSIONID prefix
    option httpchk HEAD /index.html HTTP/1.0
EOF
  for w in "$@"; do
    wname=${w%%=*} addr=${w#*=}
    [[ $addr == *:* ]] || addr=$addr:80
    letter=$(printf "\\$(printf '%03o' $((65 + i)))")
    i=$((i + 1))
    printf '    server %s %s cookie %s check inter 2s\n' "$wname" "$addr" "$letter"
  done
  cat <<EOF

# The seed's chk_haproxy ("killall -0 haproxy"), for tslb: this node's proxy answers.
vrrp_script chk_proxy
    script "/usr/bin/curl -s -o /dev/null -m 1 http://127.0.0.1/tslb-health"
    interval 1
    timeout 1
    fall 2
    rise 2
    weight -60

# Active-active: lb1 is master of VIP $net.100, lb2 of $net.101 (DNS round robin over both).
vrrp_instance VI_1
    state $state1
    interface $iface
    virtual_router_id 51
    priority $prio1
    version 3
    advert_int 0.1
    virtual_ipaddress $net.100/24 dev $iface
    track_script chk_proxy

vrrp_instance VI_2
    state $state2
    interface $iface
    virtual_router_id 52
    priority $prio2
    version 3
    advert_int 0.1
    virtual_ipaddress $net.101/24 dev $iface
    track_script chk_proxy
EOF
}

# The interface that carries ADDRESS on this machine (the Vagrant VMs: eth1), else eth0.
lab_iface() {
  local dev
  dev=$(ip -o -4 addr show 2>/dev/null | awk -v a="$1/" 'index($4, a) == 1 { print $2; exit }') || true
  echo "${dev:-eth0}"
}

node_octet() {
  case $1 in lb1) echo 11 ;; lb2) echo 12 ;; lb3) echo 13 ;; *) return 1 ;; esac
}

# Options shared by `lb` and `config`: --net NET, --iface IF, --stats PATH; the others WEB=IP.
NET=${TSLB_LAB_NET:-198.18.0}
IFACE=
STATS=/run/tslb/stats.sock
WEBS=()
SHIFT=1
parse_cluster_arg() { # false when $1 is not a cluster option; SHIFT: how many words it took
  SHIFT=1
  case $1 in
    --net) (($# >= 2)) || usage_error "--net needs the first three octets"; NET=$2; SHIFT=2 ;;
    --iface) (($# >= 2)) || usage_error "--iface needs an interface"; IFACE=$2; SHIFT=2 ;;
    --stats) (($# >= 2)) || usage_error "--stats needs a path"; STATS=$2; SHIFT=2 ;;
    *=*) WEBS+=("$1") ;;
    *) return 1 ;;
  esac
}
check_cluster_args() {
  [[ $NET =~ ^198\.1[89]\.[0-9]{1,3}$ ]] || usage_error "--net $NET: the lab network must lie in 198.18.0.0/15"
  node_octet "$NAME" >/dev/null || usage_error "lb nodes are lb1, lb2 and lb3 (the peers section names them), not $NAME"
  ((${#WEBS[@]})) || usage_error "give at least one web node as NAME=IP"
  ((${#WEBS[@]} <= 26)) || usage_error "at most 26 web nodes"
  [[ -n $IFACE ]] || IFACE=$(lab_iface "$NET.$(node_octet "$NAME")")
}

write_lb_config() { # FILE
  cluster_config "$NAME" "$NET" "$IFACE" "$STATS" "${WEBS[@]}" >"$1"
}

inode() { stat -c %i "$1" 2>/dev/null || echo none; }

provision_lb() {
  local src start=1 install=1
  src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
  while (($#)); do
    if parse_cluster_arg "$@"; then shift "$SHIFT"; continue; fi
    case $1 in
      --src) (($# >= 2)) || usage_error "--src needs a directory"; src=$2; shift ;;
      --src=*) src=${1#*=} ;;
      --no-start) start=0 ;;
      --no-install) install=0 ;;
      *) usage_error "lb: unexpected argument: $1" ;;
    esac
    shift
  done
  check_cluster_args
  if ((install)); then
    [[ -x $src/scripts/install ]] || die "no scripts/install in $src (is the checkout synced there?)"
  else
    [[ -x /usr/local/bin/tslb ]] || die "--no-install: tslb is not installed here"
  fi

  local conf=/etc/tslb/tslb.cfg
  local before after
  before="$(inode /opt/tslb) $(inode /etc/systemd/system/tslb.service)"
  if ((install)); then
    "$src/scripts/install" --from "$src"
    # socat: the runtime API on the stats socket, as HAProxy users query it
    if ! dpkg-query -W -f='${db:Status-Status}' socat 2>/dev/null | grep -qx installed; then
      log "apt-get install socat"
      quiet apt-get update -q
      quiet apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 socat
    fi
  fi
  after="$(inode /opt/tslb) $(inode /etc/systemd/system/tslb.service)"

  mkdir -p /etc/tslb
  write_lb_config "$conf.new"
  /usr/local/bin/tslb check -q -f "$conf.new" -L "$NAME" || die "the generated configuration is not valid (kept $conf.new)"
  local conf_changed=0
  if ! cmp -s "$conf.new" "$conf"; then
    mv -f "$conf.new" "$conf"
    conf_changed=1
    log "wrote $conf (VIPs $NET.100, $NET.101 on $IFACE; web nodes: ${WEBS[*]})"
  else
    rm -f "$conf.new"
  fi

  check_hostname " (tslb uses the host name as its local peer name)"
  if ((start == 0)); then
    log "lb $NAME: installed and configured (--no-start)"
    return 0
  fi
  if ! systemd_running; then
    log "lb $NAME: installed and configured; systemd is not running here: not started"
    return 0
  fi
  if ! systemctl is-active --quiet tslb; then
    log "systemctl start tslb"
    systemctl start tslb
  elif [[ $before != "$after" ]]; then
    log "systemctl restart tslb (new product files or unit)"
    systemctl restart tslb
  elif ((conf_changed)); then
    log "systemctl reload tslb (new configuration)"
    systemctl reload tslb
  fi
  # Type=notify: systemctl returned once tslb said READY=1, so its control socket answers.
  /usr/local/bin/tslb status || die "tslb does not answer on its control socket (journalctl -u tslb)"
}

# config: the cluster configuration of node NAME on stdout (scripts/demo runs its nodes with it).
print_config() {
  while (($#)); do
    parse_cluster_arg "$@" || usage_error "config: unexpected argument: $1"
    shift "$SHIFT"
  done
  check_cluster_args
  cluster_config "$NAME" "$NET" "$IFACE" "$STATS" "${WEBS[@]}"
}

# client: curl, for the drill's requests to the VIPs (bash is there already).
provision_client() {
  (($# == 0)) || usage_error "client: unexpected argument: $1"
  if ! command -v curl >/dev/null; then
    log "apt-get install curl"
    quiet apt-get update -q
    quiet apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 curl
  fi
  log "client $NAME: curl $(curl --version | head -n 1 | cut -d' ' -f2)"
}

case $ROLE in
  config) print_config "$@" ;;
  client) provision_client "$@" ;;
  lb) provision_lb "$@" ;;
  web) provision_web "$@" ;;
  *) usage_error "unknown role: $ROLE (lb, web, client or config)" ;;
esac
