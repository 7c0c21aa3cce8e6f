#!/usr/bin/env bash
# vagrant/provision.sh — provision one node of a tslb lab (the Vagrant VMs of
# vagrant/Vagrantfile; the same script serves the systemd-nspawn lab). Idempotent, as root.
#
#   provision.sh lb NAME [--src DIR] [--no-start] [--no-install] WEB=IP[:PORT]...
#       tslb from the checkout DIR (default: the checkout this script is in) through
#       scripts/install, then /etc/tslb/tslb.cfg written from the template below: frontend
#       on *:80 balancing the web nodes given as NAME=IP. The file is validated (tslb check)
#       before it replaces the old one; then tslb is started, reloaded (configuration
#       changed) or restarted (product or unit changed). --no-start: install and configure
#       only (an image being built, a chroot). --no-install: configure only (a node made
#       from an image this script installed tslb in, as the systemd-nspawn lab does).
#   provision.sh web NAME
#       nginx answering "NAME\n" on ports 80 and 81 (/health answers "ok\n", /echo-headers
#       "xff=...\ncookie=...\n", every answer carries X-Served-By: NAME), like the web nodes
#       of the namespace lab (scripts/lab); curl too, to use the node as a client.
set -euo pipefail

PROG=provision
log() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
usage_error() { printf '%s: %s\n' "$PROG" "$*" >&2; usage >&2; exit 2; }

case ${1:-} in -h | --help) usage; exit 0 ;; esac
[[ $(id -u) == 0 ]] || die "run as root"
(($# >= 2)) || usage_error "need a role (lb or web) and a node name"
ROLE=$1 NAME=$2
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
write_lb_config() { # FILE WEB=IP[:PORT]...
  local out=$1 w name addr
  shift
  {
    cat <<EOF
# /etc/tslb/tslb.cfg on $NAME — written by vagrant/provision.sh from its template:
# re-provisioning overwrites it (edit the template, or the Vagrantfile's web list).
# VRRP (a vrrp_instance holding the lab's VIP, 198.18.0.100) will be added here later.
global
    maxconn 4000
    log stdout local0

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

frontend www
    bind *:80
    default_backend webfarm

backend webfarm
    balance roundrobin
    option httpchk GET /health
EOF
    for w in "$@"; do
      name=${w%%=*} addr=${w#*=}
      [[ $addr == *:* ]] || addr=$addr:80
      printf '    server %s %s check inter 2s\n' "$name" "$addr"
    done
  } >"$out"
}

inode() { stat -c %i "$1" 2>/dev/null || echo none; }

provision_lb() {
  local src start=1 install=1 webs=()
  src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
  while (($#)); do
    case $1 in
      --src) (($# >= 2)) || usage_error "--src needs a directory"; src=$2; shift ;;
      --src=*) src=${1#*=} ;;
      --no-start) start=0 ;;
      --no-install) install=0 ;;
      *=*) webs+=("$1") ;;
      *) usage_error "lb: unexpected argument: $1" ;;
    esac
    shift
  done
  ((${#webs[@]})) || usage_error "lb: give at least one web node as NAME=IP"
  if ((install)); then
    [[ -x $src/scripts/install ]] || die "no scripts/install in $src (is the checkout synced there?)"
  else
    [[ -x /usr/local/bin/tslb ]] || die "--no-install: tslb is not installed here"
  fi

  local conf=/etc/tslb/tslb.cfg
  local before after
  before="$(inode /opt/tslb) $(inode /etc/systemd/system/tslb.service)"
  if ((install)); then "$src/scripts/install" --from "$src"; fi
  after="$(inode /opt/tslb) $(inode /etc/systemd/system/tslb.service)"

  write_lb_config "$conf.new" "${webs[@]}"
  /usr/local/bin/tslb check -q -f "$conf.new" -L "$NAME" || die "the generated configuration is not valid (kept $conf.new)"
  local conf_changed=0
  if ! cmp -s "$conf.new" "$conf"; then
    mv -f "$conf.new" "$conf"
    conf_changed=1
    log "wrote $conf (web nodes: ${webs[*]})"
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

case $ROLE in
  lb) provision_lb "$@" ;;
  web) provision_web "$@" ;;
  *) usage_error "unknown role: $ROLE (lb or web)" ;;
esac
