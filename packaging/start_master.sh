#!/usr/bin/env bash
# Start the Titan master in the background from this bundle folder.
# Usage: ./start_master.sh [--port 9090] [--http-port 5000] [other "titan master" options...]
set -euo pipefail
umask 077

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=common.sh
. "$DIR/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: ./start_master.sh [--port 9090] [--http-port 5000] [other "titan master" options...]

Starts the Titan master in the background and prints how to reach it.
  --port N        TCP port for clients and workers (default 9090)
  --http-port N   dashboard / HTTP port (default 5000)
Other options are passed to "titan master" (e.g. --autoscale GPU=2, --store redis://host:6379/0,
--ui-user NAME --ui-password-file FILE); relative paths in them are taken from the bundle folder.

  --token-file F  use the cluster token in the first line of this file instead of the generated
                  one; it is saved in the data folder and kept for later starts (TITAN_TOKEN_FILE,
                  or the token itself in TITAN_TOKEN, work too). The master reads it from the data
                  folder: no command line ever holds it.

Masters sharing a PostgreSQL or Redis store (--store, with --blob-dir and --advertise): the first
leads, the others stand by and take over automatically; this script says which it is, and
./stop_master.sh stops either.

Environment: TITAN_DATA_DIR (default: titan-data in the bundle folder), TITAN_TOKEN_FILE,
TITAN_TOKEN, TITAN_NODE (the node binary to use), TITAN_START_TIMEOUT (seconds to wait, default 60).
Stop it with ./stop_master.sh; its output goes to master.log.
EOF
}

PORT=9090
HTTP_PORT=5000
DATA_DIR=${TITAN_DATA_DIR:-$DIR/titan-data}
TOKEN_FILE=${TITAN_TOKEN_FILE:-}
EXTRA=()

need_value() {
  if [ "$2" -lt 2 ]; then
    titan_err "error: $1 needs a value"
    usage >&2
    exit 2
  fi
}

while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --port) need_value "$1" $#; PORT=$2; shift 2 ;;
    --port=*) PORT=${1#*=}; shift ;;
    --http-port) need_value "$1" $#; HTTP_PORT=$2; shift 2 ;;
    --http-port=*) HTTP_PORT=${1#*=}; shift ;;
    --data-dir) need_value "$1" $#; DATA_DIR=$2; shift 2 ;;
    --data-dir=*) DATA_DIR=${1#*=}; shift ;;
    --token-file) need_value "$1" $#; TOKEN_FILE=$2; shift 2 ;;
    --token-file=*) TOKEN_FILE=${1#*=}; shift ;;
    # Still taken, though ps shows this script's command line while it runs: the token is saved in
    # the data folder below and never passed on.
    --token) need_value "$1" $#; export TITAN_TOKEN=$2; TOKEN_FILE=''; shift 2 ;;
    --token=*) export TITAN_TOKEN=${1#*=}; TOKEN_FILE=''; shift ;;
    --pid-file | --pid-file=*)
      titan_err "error: --pid-file is set by this script ($DIR/run/master.pid)"
      exit 2
      ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

if [ -n "$TOKEN_FILE" ]; then
  if [ ! -f "$TOKEN_FILE" ] || [ ! -r "$TOKEN_FILE" ]; then
    titan_err "error: --token-file: cannot read \"$TOKEN_FILE\""
    exit 2
  fi
  TITAN_TOKEN=$(head -n 1 "$TOKEN_FILE" | tr -d ' \t\r')
  if [ -z "$TITAN_TOKEN" ]; then
    titan_err "error: --token-file: the first line of \"$TOKEN_FILE\" is empty; put the cluster token there"
    exit 2
  fi
  export TITAN_TOKEN
fi

if ! titan_valid_port "$PORT"; then
  titan_err "error: --port must be a number from 1 to 65535 (got \"$PORT\"); see ./start_master.sh --help"
  exit 2
fi
if ! titan_valid_port "$HTTP_PORT"; then
  titan_err "error: --http-port must be a number from 1 to 65535 (got \"$HTTP_PORT\"); see ./start_master.sh --help"
  exit 2
fi
PORT=$((10#$PORT))
HTTP_PORT=$((10#$HTTP_PORT))
if [ "$PORT" -eq "$HTTP_PORT" ]; then
  titan_err "error: --port and --http-port must differ (both are $PORT)"
  exit 2
fi

cd "$DIR"
case $DATA_DIR in /*) ;; *) DATA_DIR=$DIR/$DATA_DIR ;; esac
RUN_DIR=$DIR/run
PID_FILE=$RUN_DIR/master.pid
LOG=$DIR/master.log

# summary PID PORT HTTP_PORT SCHEME [LEADER]: how to reach the running master (SCHEME https with
# TLS); LEADER, the host:port of the master that leads when this one stands by, comes first in the
# worker's and the laptop's master lists.
summary() {
  local pid=$1 port=$2 http=$3 scheme=$4 leader=${5:-} token wtoken addrs first a join tls_join='' tls_env=''
  addrs=$(titan_addresses)
  first=$(printf '%s\n' "$addrs" | head -n 1)
  [ -n "$first" ] || first='<MASTER_INTERNAL_IP>'
  if [ -r "$DATA_DIR/token" ]; then
    token=$(head -n 1 "$DATA_DIR/token" | tr -d '\r\n')
    wtoken=$(TITAN_TOKEN=$token "$NODE" "$DIR/bin/titan.js" token --role worker 2>/dev/null) || wtoken='<titan token --role worker>'
  else
    token="<the token in $DATA_DIR/token>"
    wtoken='<titan token --role worker>'
  fi
  join=$first
  [ "$port" -eq 9090 ] || join=$first:$port
  [ -z "$leader" ] || join=${leader%:9090},$join
  if [ "$scheme" = https ]; then
    tls_join=' --ca <the CA that signed the certificate>'
    tls_env=' TITAN_CA=<that CA file>'
  fi

  echo "  pid:        $pid"
  echo "  log:        $LOG   (tail -f $LOG)"
  echo "  data:       $DATA_DIR"
  echo
  echo "Dashboard (sign in with the token):"
  if [ -n "$addrs" ]; then
    for a in $addrs; do echo "  $scheme://$a:$http/"; done
  fi
  echo "  $scheme://<VM-EXTERNAL-IP>:$http/   <- from your laptop, use the VM's external IP"
  echo
  echo "Cluster token (the dashboard, the CLI and the SDKs; keep it private):"
  echo "  $token"
  echo
  echo "Start a worker: on each worker VM, in the unzipped titan-worker-bundle folder, save the worker"
  echo "token in the file token there (start_worker.sh reads it from that file, never from a command line):"
  # GENERAL, not Titan's default GPU: jobs that name no requirement (most, and the guide's first)
  # run only on GENERAL workers.
  echo "  (umask 077 && echo '$wtoken' >token) && ./start_worker.sh $join 8085 GENERAL$tls_join"
  echo "  (GENERAL runs the jobs that name no requirement; a GPU VM: GENERAL,GPU instead of GENERAL)"
  echo "  (the worker token registers workers and nothing else; the jobs get tokens of their own)"
  echo "  (use this master's internal IP; this host's addresses: ${addrs:-unknown})"
  echo
  echo "CLI / SDK from your laptop:"
  if [ -n "$leader" ]; then
    echo "  export TITAN_MASTERS=<LEADER-EXTERNAL-IP>:${leader##*:},<VM-EXTERNAL-IP>:$port TITAN_TOKEN=$token$tls_env"
    echo "  (every master's address the laptop reaches, the leader's ($leader) first: clients follow the one that leads)"
  else
    echo "  export TITAN_HOST=<VM-EXTERNAL-IP> TITAN_PORT=$port TITAN_TOKEN=$token$tls_env"
  fi
  echo
  if [ -n "$leader" ]; then
    echo "Firewall: open TCP $port and TCP $http on every master, as on the leader (restrict them to your own"
  else
    echo "Firewall: open TCP $port and TCP $http on the master only (restrict them to your own"
  fi
  echo "addresses and the workers' network); workers need no inbound port."
}

# The ports and scheme of a running master, read from its command line (defaults when absent).
running_ports() {
  local pid=$1 prev='' w p=9090 h=5000 scheme=http words=()
  if [ -r "/proc/$pid/cmdline" ]; then
    while IFS= read -r -d '' w; do words+=("$w"); done <"/proc/$pid/cmdline"
  else
    read -r -a words <<<"$(titan_cmdline "$pid")"
  fi
  for w in ${words[@]+"${words[@]}"}; do
    case $prev in
      --port) p=$w ;;
      --http-port) h=$w ;;
    esac
    case $w in
      --port=*) p=${w#*=} ;;
      --http-port=*) h=${w#*=} ;;
      --tls-cert | --tls-cert=*) scheme=https ;;
    esac
    prev=$w
  done
  titan_valid_port "$p" || p=$PORT
  titan_valid_port "$h" || h=$HTTP_PORT
  echo "$p $h $scheme"
}

titan_require_node

if ! "$NODE" -e "const D=require(process.argv[1]); new D(':memory:').close()" "$DIR/node_modules/better-sqlite3" >/dev/null 2>&1; then
  info=$("$NODE" -e '
    const here = `Node ${process.versions.node} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}`;
    let b = {};
    try { b = require(process.argv[1]).node || {}; } catch {}
    const q = (v) => (v === undefined ? "?" : v);
    console.log([q(b.major), q(b.modules), q(b.platform), q(b.arch), here].join("\t"));
  ' "$DIR/bundle.json" 2>/dev/null || true)
  IFS=$'\t' read -r b_major b_modules b_platform b_arch here <<<"$info" || true
  titan_err "error: the bundled SQLite module (node_modules/better-sqlite3) does not load with this Node.js."
  titan_err "This bundle's SQLite module was built for Node ${b_major:-?} (ABI ${b_modules:-?}) on ${b_platform:-?}-${b_arch:-?};"
  titan_err "this machine has ${here:-Node $NODE_VERSION}."
  titan_err "Fix it in one of these ways:"
  titan_err "  - install Node ${b_major:-20} (or set TITAN_NODE=/path/to/node of that version)"
  titan_err "  - build the bundle on a machine like this one (same OS, CPU architecture and Node version)"
  titan_err "  - run \"npm rebuild better-sqlite3\" inside $DIR (needs python3, make and g++)"
  exit 1
fi

mkdir -p "$RUN_DIR" "$DATA_DIR"

# One start at a time: two would both open the store before one lost the port.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$RUN_DIR/start.lock"
  if ! flock -n 9; then
    titan_err "another start_master.sh is starting the master in $DIR; wait for it"
    exit 1
  fi
fi

if pid=$(titan_running "$PID_FILE"); then
  read -r rport rhttp rscheme <<<"$(running_ports "$pid")"
  # Since the last start in the log: a leader that stood by says "listening" once it leads.
  rleader=$(awk '/start_master.sh: starting the master/ { l = "" } /standing by: the leader is at / { l = $0 } /titan master listening/ { l = "" } END { print l }' "$LOG" 2>/dev/null |
    sed -n 's/.*standing by: the leader is at \([^ ]*\).*/\1/p')
  if [ -n "$rleader" ]; then
    echo "the master is already running as a standby (pid $pid): the master at $rleader leads the cluster; this one takes over automatically."
  else
    echo "the master is already running (pid $pid)"
  fi
  summary "$pid" "$rport" "$rhttp" "$rscheme" "$rleader"
  exit 0
fi
rm -f "$PID_FILE"

# A token given here is kept in the data folder, so a later start without it keeps the same token.
if [ -n "${TITAN_TOKEN:-}" ]; then
  printf '%s\n' "$TITAN_TOKEN" >"$DATA_DIR/token"
  chmod 600 "$DATA_DIR/token"
  unset TITAN_TOKEN
fi
TIMEOUT=${TITAN_START_TIMEOUT:-60}
case $TIMEOUT in '' | *[!0-9]*) titan_err "error: TITAN_START_TIMEOUT must be a number of seconds (got \"$TIMEOUT\")"; exit 2 ;; esac
TIMEOUT=$((10#$TIMEOUT))
[ "$TIMEOUT" -gt 0 ] || { titan_err "error: TITAN_START_TIMEOUT must be at least 1"; exit 2; }

{
  echo
  echo "=== $(date '+%Y-%m-%d %H:%M:%S') start_master.sh: starting the master (port $PORT, http $HTTP_PORT) ==="
} >>"$LOG"
START_SIZE=$(titan_log_size "$LOG")

titan_start_bg "$LOG" "$NODE" "$DIR/bin/titan.js" master --data-dir "$DATA_DIR" \
  --port "$PORT" --http-port "$HTTP_PORT" --pid-file "$PID_FILE" ${EXTRA[@]+"${EXTRA[@]}"} 9>&-
bg=$TITAN_BG_PID
# Recorded at once (the master writes the same pid again once it listens), so that a second
# start_master.sh or stop_master.sh finds this master even while it is still starting.
printf '%s\n' "$bg" >"$PID_FILE.$$" && mv "$PID_FILE.$$" "$PID_FILE"

new_lines() { tail -c "+$((START_SIZE + 1))" "$LOG" 2>/dev/null || true; }
# Up once it listens (it leads, or has no lease to take) or once it stands by behind a leader.
up() { new_lines | grep -q 'titan master listening\|standing by: the leader is at '; }
i=0
while [ "$i" -lt $((TIMEOUT * 5)) ] && kill -0 "$bg" 2>/dev/null && ! up; do
  sleep 0.2
  i=$((i + 1))
done
if ! up; then
  if kill -0 "$bg" 2>/dev/null; then
    # Not killed: a large store can take long to open, and a standby may not reach its store yet.
    titan_err "the master (pid $bg) is not listening after ${TIMEOUT} s; it may still be starting:"
    titan_err "follow $LOG; ./start_master.sh shows its summary once it is up, ./stop_master.sh stops it"
  else
    rm -f "$PID_FILE"
    titan_err "the master did not start"
  fi
  titan_err "--- last 20 lines of $LOG ---"
  tail -n 20 "$LOG" >&2 || true
  exit 1
fi
pid=$bg

SCHEME=http
for w in ${EXTRA[@]+"${EXTRA[@]}"}; do
  case $w in --tls-cert | --tls-cert=*) SCHEME=https ;; esac
done
if new_lines | grep -q 'titan master listening'; then
  echo "the master is running (pid $pid)"
  summary "$pid" "$PORT" "$HTTP_PORT" "$SCHEME"
  exit 0
fi
# A standby: its pid file is the one written above, so ./stop_master.sh stops it as it does a leader.
LEADER=$(new_lines | sed -n 's/.*standing by: the leader is at \([^ ]*\).*/\1/p' | tail -n 1)
LEADER_HTTP=$(new_lines | sed -n 's/.*standing by: the leader is at [^ ]* (dashboard \([^ )]*\)).*/\1/p' | tail -n 1)
echo "the master is running as a standby (pid $pid): the master at $LEADER leads the cluster (dashboard ${LEADER_HTTP:-unknown})."
echo "This master takes over automatically, within about 5 s, if the leader dies or stops; it then"
echo "listens on TCP $PORT and HTTP $HTTP_PORT here. Until then clients and workers use the leader."
summary "$pid" "$PORT" "$HTTP_PORT" "$SCHEME" "$LEADER"
