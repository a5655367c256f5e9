# shellcheck shell=bash
# Titan bundle helpers, sourced by start_*.sh and stop_*.sh (lib/common.sh in each bundle).
# Not meant to be run on its own.

TITAN_NODE_ADVICE='Titan needs Node.js 20 or later. To install it:
  - Debian/Ubuntu: curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y nodejs
    (plain "sudo apt-get install -y nodejs" gives a version older than 20 on some releases)
  - RHEL/Rocky/Alma/Fedora: curl -fsSL https://rpm.nodesource.com/setup_20.x | sudo bash - && sudo dnf install -y nodejs
  - any Linux or macOS, without root: nvm (https://github.com/nvm-sh/nvm), then "nvm install 20"
  - or point this script at a Node.js 20+ binary: TITAN_NODE=/path/to/node'

titan_err() { printf '%s\n' "$*" >&2; }

# titan_require_node: sets NODE (the node binary, ${TITAN_NODE:-node}) and NODE_VERSION, or exits 1.
titan_require_node() {
  NODE=${TITAN_NODE:-node}
  if ! command -v "$NODE" >/dev/null 2>&1; then
    titan_err "error: Node.js was not found (looked for \"$NODE\")."
    titan_err "$TITAN_NODE_ADVICE"
    exit 1
  fi
  NODE_VERSION=$("$NODE" -p 'process.versions.node' 2>/dev/null || true)
  local major=${NODE_VERSION%%.*}
  case $major in
    '' | *[!0-9]*)
      titan_err "error: \"$NODE\" did not report a Node.js version."
      titan_err "$TITAN_NODE_ADVICE"
      exit 1
      ;;
  esac
  if [ "$major" -lt 20 ]; then
    titan_err "error: found Node.js $NODE_VERSION (\"$NODE\"), which is too old."
    titan_err "$TITAN_NODE_ADVICE"
    exit 1
  fi
}

# titan_valid_port VALUE: 0 when VALUE is an integer from 1 to 65535.
titan_valid_port() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 5 ] && [ "$((10#$1))" -ge 1 ] && [ "$((10#$1))" -le 65535 ]
}

# titan_cmdline PID: the process's command line, arguments separated by spaces (empty if gone).
titan_cmdline() {
  local pid=$1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true
  else
    ps -o args= -p "$pid" 2>/dev/null || true
  fi
}

# titan_running PIDFILE: prints the pid and returns 0 when PIDFILE names a live process started
# with "--pid-file <absolute PIDFILE>"; returns 1 otherwise (no file, dead, or someone else's pid).
titan_running() {
  local file=$1 pid cmd
  [ -f "$file" ] || return 1
  pid=$(head -n 1 "$file" 2>/dev/null | tr -d ' \t\r\n') || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(titan_cmdline "$pid")
  case "$cmd " in
    *"--pid-file $file "* | *"--pid-file=$file "*) printf '%s\n' "$pid"; return 0 ;;
  esac
  return 1
}

# titan_stop PIDFILE NAME TIMEOUT_SECONDS: SIGTERM the process the pid file belongs to, wait up to
# TIMEOUT_SECONDS, then SIGKILL. Never signals a process that is not ours.
titan_stop() {
  local file=$1 name=$2 timeout=$3 pid i=0 ticks
  if ! pid=$(titan_running "$file"); then
    if [ -e "$file" ]; then
      rm -f "$file"
      echo "$name is not running (removed the stale pid file $file)"
    else
      echo "$name is not running"
    fi
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  ticks=$((timeout * 5))
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$ticks" ]; do
    sleep 0.2
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name (pid $pid) did not stop within ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
      sleep 0.2
      i=$((i + 1))
    done
  fi
  # Remove the file unless a new process has written its own pid there meanwhile.
  if [ -f "$file" ] && [ "$(head -n 1 "$file" 2>/dev/null | tr -d ' \t\r\n')" = "$pid" ]; then
    rm -f "$file"
  fi
  echo "stopped $name (pid $pid)"
}

# titan_start_bg LOGFILE CMD...: runs CMD in the background, detached from the terminal (own
# session when setsid exists; immune to hangups), stdin from /dev/null, output appended to LOGFILE.
# Sets TITAN_BG_PID to the started process's pid. The subshell is never a process-group leader
# (scripts run without job control), so setsid does not fork and the pid is the command's own;
# callers still rely on the pid file the command writes.
titan_start_bg() {
  local log=$1
  shift
  if command -v setsid >/dev/null 2>&1; then
    (exec setsid nohup "$@" </dev/null >>"$log" 2>&1) &
  else
    (exec nohup "$@" </dev/null >>"$log" 2>&1) &
  fi
  TITAN_BG_PID=$!
}

# titan_addresses: this host's non-loopback IPv4 addresses, one a line (may print nothing).
titan_addresses() {
  local out=''
  if [ "$(uname -s 2>/dev/null)" = Linux ]; then
    out=$(hostname -I 2>/dev/null || true)
  fi
  if [ -z "${out// /}" ] && command -v ip >/dev/null 2>&1; then
    out=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }' || true)
  fi
  if [ -z "${out// /}" ] && command -v ifconfig >/dev/null 2>&1; then
    out=$(ifconfig 2>/dev/null | awk '$1 == "inet" { sub(/^addr:/, "", $2); print $2 }' || true)
  fi
  local a
  for a in $out; do
    case $a in
      127.*) ;;
      *.*.*.*) case $a in *[!0-9.]*) ;; *) printf '%s\n' "$a" ;; esac ;;
    esac
  done
}

# titan_log_size FILE: the size of FILE in bytes (0 when missing).
titan_log_size() {
  if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo 0; fi
}

# titan_cpus: the number of CPUs (4 when unknown).
titan_cpus() {
  local n
  n=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || true)
  case $n in '' | *[!0-9]* | 0) echo 4 ;; *) echo "$n" ;; esac
}
