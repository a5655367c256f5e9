#!/usr/bin/env bash
# Start a Titan worker in the background from this bundle folder; it connects out to the master.
# Usage: ./start_worker.sh <MASTER_HOST[:MASTER_PORT][,MASTER_HOST[:MASTER_PORT]...]> [PORT=8085] [CAPABILITY=GPU] [PERMANENT=true]
#                          [--token-file FILE] [--slots N] [--name NAME] [--tls] [--ca FILE] [--cert FILE --key FILE]
# The worker token is read from the file "token" in this folder (or --token-file FILE), and the
# worker gets the file's path, never the token itself: a command line is visible to every user (ps).
set -euo pipefail
umask 077

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=common.sh
. "$DIR/lib/common.sh"

USAGE='Usage: ./start_worker.sh <MASTER_HOST[:MASTER_PORT][,...]> [PORT=8085] [CAPABILITY=GPU] [PERMANENT=true] [--token-file FILE] [--slots N] [--name NAME] [--tls] [--ca FILE] [--cert FILE --key FILE]'

usage() {
  cat <<EOF
$USAGE

Starts a Titan worker in the background. It connects out to the master (no inbound port needed).
  MASTER_HOST[:MASTER_PORT]  the master's internal IP or name; MASTER_PORT defaults to 9090 (or TITAN_PORT).
                             Masters sharing a store: a comma list, e.g. 10.0.0.5,10.0.0.6:9091; the worker
                             joins the one that leads and follows the leadership when it moves
  PORT                       names this worker NAME:PORT, so several workers on one VM stay distinct (default 8085)
  CAPABILITY                 what it offers jobs, a comma list like GPU,HIGH_MEM (default GPU)
  PERMANENT                  true or false: permanent workers are never scaled down (default true)
  --token-file FILE          the file whose first line is the worker token (default TITAN_TOKEN_FILE,
                             else ./token in this folder); start_master.sh printed the token
  --token T                  the worker token itself, saved in ./token for later starts (also TITAN_TOKEN);
                             while this script runs, ps shows it: prefer the token file
  --slots N                  jobs run at once (default TITAN_SLOTS, else the number of CPUs)
  --name NAME                the name it advertises (default: this host's name)
  --keep-runs-hours N        remove run folders and cached scripts untouched this long (default 72)
  --tls                      connect with TLS, trusting the system CAs (or set TITAN_TLS=1)
  --ca FILE                  connect with TLS, trusting this CA (or set TITAN_CA)
  --cert FILE --key FILE     this worker's client certificate, for a master with --tls-client-ca
                             (or set TITAN_CERT and TITAN_KEY); jobs get the same settings

Example: (umask 077 && echo '<worker token>' >token) && ./start_worker.sh 10.0.0.2
Stop it with ./stop_worker.sh [PORT]; its output goes to worker.log (worker-PORT.log for other ports).
EOF
}

bad() {
  titan_err "$USAGE"
  titan_err "error: $*"
  exit 2
}

need_value() {
  [ "$2" -ge 2 ] || bad "$1 needs a value"
}

TOKEN=''
TOKEN_FILE=''
SLOTS=${TITAN_SLOTS:-}
KEEP=()
NAME=''
POS=()
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --token) need_value "$1" $#; TOKEN=$2; shift 2 ;;
    --token=*) TOKEN=${1#*=}; shift ;;
    --token-file) need_value "$1" $#; TOKEN_FILE=$2; shift 2 ;;
    --token-file=*) TOKEN_FILE=${1#*=}; shift ;;
    --slots) need_value "$1" $#; SLOTS=$2; shift 2 ;;
    --slots=*) SLOTS=${1#*=}; shift ;;
    --name) need_value "$1" $#; NAME=$2; shift 2 ;;
    --name=*) NAME=${1#*=}; shift ;;
    --keep-runs-hours) need_value "$1" $#; KEEP=(--keep-runs-hours "$2"); shift 2 ;;
    --keep-runs-hours=*) KEEP=(--keep-runs-hours "${1#*=}"); shift ;;
    --tls) export TITAN_TLS=1; shift ;;
    --ca) need_value "$1" $#; export TITAN_CA=$2; shift 2 ;;
    --ca=*) export TITAN_CA=${1#*=}; shift ;;
    --cert) need_value "$1" $#; export TITAN_CERT=$2; shift 2 ;;
    --cert=*) export TITAN_CERT=${1#*=}; shift ;;
    --key) need_value "$1" $#; export TITAN_KEY=$2; shift 2 ;;
    --key=*) export TITAN_KEY=${1#*=}; shift ;;
    --) shift; POS+=("$@"); break ;;
    -*) bad "unknown option \"$1\"" ;;
    *) POS+=("$1"); shift ;;
  esac
done

[ "${#POS[@]}" -ge 1 ] || bad "MASTER_HOST is missing (the master's internal IP, e.g. 10.0.0.2)"
[ "${#POS[@]}" -le 4 ] || bad "too many arguments: ${POS[*]:4}"

MASTER=${POS[0]}
PORT=${POS[1]:-8085}
CAPABILITY=${POS[2]:-GPU}
# Titan's default, kept for its users' scripts; said after the start, since GENERAL jobs skip it.
CAPABILITY_DEFAULTED=false
[ -n "${POS[2]:-}" ] || CAPABILITY_DEFAULTED=true
PERMANENT=${POS[3]:-true}

# MASTER_HOST[:MASTER_PORT], or a comma list of them for masters that share a store (one leads,
# the others stand by); [IPv6]:PORT works too, and each entry gets the default port on its own.
DEFAULT_MPORT=${TITAN_PORT:-9090}
MASTERS=()
case $MASTER in '' | ,* | *, | *,,*) bad "MASTER_HOST has an empty entry in \"$MASTER\" (a comma list like 10.0.0.5,10.0.0.6:9091)" ;; esac
IFS=',' read -r -a ENTRIES <<<"$MASTER"
for entry in "${ENTRIES[@]}"; do
  MPORT=$DEFAULT_MPORT
  case $entry in
    \[*\]:*) MHOST=${entry%:*}; MPORT=${entry##*:} ;;
    \[*\]) MHOST=$entry ;;
    *:*:*) MHOST="[$entry]" ;; # a bare IPv6 address
    *:*) MHOST=${entry%%:*}; MPORT=${entry#*:} ;;
    *) MHOST=$entry ;;
  esac
  [ -n "$MHOST" ] || bad "MASTER_HOST is empty in \"$entry\""
  case $MHOST in *[[:space:]/]*) bad "MASTER_HOST \"$MHOST\" is not a host name or IP address" ;; esac
  titan_valid_port "$MPORT" || bad "MASTER_PORT must be a number from 1 to 65535 (got \"$MPORT\" in \"$entry\")"
  MASTERS+=("$MHOST:$((10#$MPORT))")
done
# One --master argument; the worker tries the entries in order and follows the leader.
MASTER_LIST=$(IFS=','; printf '%s' "${MASTERS[*]}")
if [ "${#MASTERS[@]}" -eq 1 ]; then
  MASTER_DESC="the master at $MASTER_LIST"
  MPORT=${MASTER_LIST##*:}
else
  MASTER_DESC="the masters at $MASTER_LIST"
  MPORT=$(for m in "${MASTERS[@]}"; do printf '%s\n' "${m##*:}"; done | sort -un | paste -sd, -)
fi
titan_valid_port "$PORT" || bad "PORT must be a number from 1 to 65535 (got \"$PORT\")"
PORT=$((10#$PORT))
case $CAPABILITY in
  '' | ,* | *, | *,,* | *[!A-Za-z0-9_,-]*)
    bad "CAPABILITY must be a name or comma list of letters, digits, _ and - (e.g. GPU or GPU,HIGH_MEM); got \"$CAPABILITY\""
    ;;
esac
case $PERMANENT in
  true | false) ;;
  *) bad "PERMANENT must be true or false (got \"$PERMANENT\")" ;;
esac
if [ -z "$SLOTS" ]; then
  SLOTS=$(titan_cpus)
fi
case $SLOTS in '' | *[!0-9]*) bad "--slots must be a number from 1 to 1024 (got \"$SLOTS\")" ;; esac
{ [ "${#SLOTS}" -le 4 ] && [ "$((10#$SLOTS))" -ge 1 ] && [ "$((10#$SLOTS))" -le 1024 ]; } ||
  bad "--slots must be a number from 1 to 1024 (got \"$SLOTS\")"
SLOTS=$((10#$SLOTS))
if [ -z "$NAME" ]; then
  NAME=$(hostname 2>/dev/null || uname -n)
fi
case $NAME in '' | *[[:space:]]*) bad "--name must be a host name without spaces (got \"$NAME\")" ;; esac

# The token: --token-file or --token, else TITAN_TOKEN_FILE, else TITAN_TOKEN, else ./token.
[ -z "$TOKEN" ] || [ -z "$TOKEN_FILE" ] || bad "give --token-file or --token, not both"
[ -n "$TOKEN$TOKEN_FILE" ] || TOKEN_FILE=${TITAN_TOKEN_FILE:-}
[ -n "$TOKEN$TOKEN_FILE" ] || TOKEN=${TITAN_TOKEN:-}
if [ -n "$TOKEN" ]; then
  # Kept in ./token (mode 600), so that later starts need nothing and the worker reads it from there.
  printf '%s\n' "$TOKEN" >"$DIR/token"
  chmod 600 "$DIR/token"
  TOKEN_FILE=$DIR/token
elif [ -z "$TOKEN_FILE" ]; then
  TOKEN_FILE=$DIR/token
  if [ ! -e "$TOKEN_FILE" ]; then
    titan_err "$USAGE"
    titan_err "error: the worker token is needed: put it in $TOKEN_FILE, e.g."
    titan_err "  (umask 077 && echo '<worker token>' >token) && ./start_worker.sh $MASTER"
    titan_err "or name another file with --token-file FILE. start_master.sh printed the token on the master"
    titan_err "(or run: bin/titan.js token --role worker, in the master's bundle folder)."
    exit 2
  fi
fi
[ -f "$TOKEN_FILE" ] && [ -r "$TOKEN_FILE" ] || bad "cannot read the token file \"$TOKEN_FILE\""
[ -n "$(head -n 1 "$TOKEN_FILE" | tr -d ' \t\r')" ] || bad "the first line of \"$TOKEN_FILE\" is empty; put the worker token there"
case $TOKEN_FILE in /*) ;; *) TOKEN_FILE=$(cd "$(dirname "$TOKEN_FILE")" && pwd -P)/$(basename "$TOKEN_FILE") ;; esac

# TLS files as absolute paths (the worker runs from the bundle folder and hands them to jobs).
for var in TITAN_CA TITAN_CERT TITAN_KEY; do
  file=${!var:-}
  [ -n "$file" ] || continue
  [ -r "$file" ] || bad "$var: cannot read \"$file\""
  case $file in /*) ;; *) export "$var=$(cd "$(dirname "$file")" && pwd -P)/$(basename "$file")" ;; esac
done

titan_require_node

if ! command -v python3 >/dev/null 2>&1 && ! command -v python >/dev/null 2>&1; then
  titan_err "warning: no python3 (or python) on PATH: Python jobs will fail on this worker; shell and Node jobs still work."
  titan_err "         Install it with: sudo apt-get install -y python3   (RHEL-likes: sudo dnf install -y python3)"
fi

cd "$DIR"
RUN_DIR=$DIR/run
PID_FILE=$RUN_DIR/worker-$PORT.pid
if [ "$PORT" -eq 8085 ]; then LOG=$DIR/worker.log; else LOG=$DIR/worker-$PORT.log; fi
WORK_DIR=$DIR/work-$PORT
mkdir -p "$RUN_DIR" "$WORK_DIR"

if pid=$(titan_running "$PID_FILE"); then
  echo "worker $PORT is already running (pid $pid), log: $LOG"
  echo "stop it first with ./stop_worker.sh $PORT to start it with other settings"
  exit 0
fi
rm -f "$PID_FILE"

if [ -d "$DIR/python/titan_sdk" ]; then
  echo "Python jobs need nothing installed: the worker puts the bundled SDK ($DIR/python) on every job's PYTHONPATH."
fi

{
  echo
  echo "=== $(date '+%Y-%m-%d %H:%M:%S') start_worker.sh: starting worker $NAME:$PORT [$CAPABILITY] for $MASTER_DESC ==="
} >>"$LOG"
START_SIZE=$(titan_log_size "$LOG")

ARGS=(worker --master "$MASTER_LIST" --token-file "$TOKEN_FILE" --capabilities "$CAPABILITY" --port "$PORT"
  --slots "$SLOTS" --name "$NAME" --work-dir "$WORK_DIR" --pid-file "$PID_FILE")
[ "$PERMANENT" = true ] && ARGS+=(--permanent)
ARGS+=(${KEEP[@]+"${KEEP[@]}"})

# The worker reads the token from its file: neither its command line nor its environment holds it.
unset TITAN_TOKEN TITAN_TOKEN_FILE
titan_start_bg "$LOG" "$NODE" "$DIR/bin/titan.js" "${ARGS[@]}"
bg=$TITAN_BG_PID

new_lines() { tail -c "+$((START_SIZE + 1))" "$LOG" 2>/dev/null || true; }
last_lines() {
  titan_err "--- last 20 lines of $LOG ---"
  new_lines | tail -n 20 >&2
}

i=0
while [ "$i" -lt 100 ]; do
  if new_lines | grep -q 'joined master'; then
    pid=$(titan_running "$PID_FILE") || pid=$bg
    # The one that leads, named by the worker's own log line.
    joined=$(new_lines | sed -n 's/.*joined master \([^ ]*\) as .*/\1/p' | head -n 1)
    echo "worker $NAME:$PORT [$CAPABILITY] joined the master at ${joined:-$MASTER_LIST} (pid $pid), log: $LOG"
    if [ "$CAPABILITY_DEFAULTED" = true ]; then
      echo "note: it runs only jobs that require GPU (the default CAPABILITY). Jobs that name no requirement need"
      echo "      a GENERAL worker: ./stop_worker.sh $PORT && ./start_worker.sh $MASTER $PORT GENERAL   (or GENERAL,GPU)"
    fi
    exit 0
  fi
  if ! kill -0 "$bg" 2>/dev/null; then
    sleep 0.2 # let the last lines reach the log
    if new_lines | grep -q 'joined master'; then continue; fi
    titan_err "the worker stopped"
    last_lines
    if new_lines | grep -qi 'certificate\|does not speak TLS'; then
      titan_err "hint: a TLS problem: --ca must be the CA that signed the master's certificate, the certificate"
      titan_err "      must name the MASTER_HOST it is reached by ($MASTER_LIST), and a master with --tls-client-ca needs --cert and --key."
    elif new_lines | grep -q 'master refused this worker'; then
      titan_err "hint: the master refused this worker, most likely a wrong token: use the worker token"
      titan_err "      start_master.sh printed (bin/titan.js token --role worker in the master's bundle folder)."
    fi
    exit 1
  fi
  sleep 0.2
  i=$((i + 1))
done

pid=$(titan_running "$PID_FILE") || pid=$bg
echo "worker $NAME:$PORT [$CAPABILITY] is still trying to reach $MASTER_DESC (pid $pid); it keeps retrying in the background."
echo "Check that:"
echo "  - a master is running there (./start_master.sh on the master prints its status)"
echo "  - TCP $MPORT is open in the masters' firewall for this VM"
echo "  - $MASTER_LIST names the masters' internal IPs (or names this VM resolves to them)"
echo "  - TLS matches: a master started with --tls-cert needs --ca (or --tls) here, a plain one none"
echo "--- last lines of $LOG ---"
new_lines | tail -n 10
echo "Follow it with: tail -f $LOG   (stop it with ./stop_worker.sh $PORT)"
exit 0
