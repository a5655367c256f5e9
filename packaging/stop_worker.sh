#!/usr/bin/env bash
# Stop the Titan workers started by ./start_worker.sh. Each drains first: it finishes its
# running jobs (up to 30 s) before it exits.
# Usage: ./stop_worker.sh [PORT|all]
set -euo pipefail
umask 077

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=common.sh
. "$DIR/lib/common.sh"

usage() {
  echo "Usage: ./stop_worker.sh [PORT|all]"
  echo "Stops the worker started with that PORT, or every worker of this bundle (default: all)."
  echo "Workers drain first (running jobs get up to 30 s); after 45 s they are killed."
}

TARGET=all
if [ $# -gt 1 ]; then
  titan_err "error: too many arguments"
  usage >&2
  exit 2
fi
case ${1:-all} in
  -h | --help) usage; exit 0 ;;
  all) TARGET=all ;;
  *)
    if ! titan_valid_port "$1"; then
      titan_err "error: PORT must be a number from 1 to 65535 or \"all\" (got \"$1\")"
      usage >&2
      exit 2
    fi
    TARGET=$((10#$1))
    ;;
esac

if [ "$TARGET" = all ]; then
  files=()
  for f in "$DIR"/run/worker-*.pid; do
    [ -e "$f" ] && files+=("$f")
  done
  if [ "${#files[@]}" -eq 0 ]; then
    echo "no worker is running"
    exit 0
  fi
  # Stop them all at once, so they drain in parallel.
  for f in "${files[@]}"; do
    p=${f##*/worker-}
    p=${p%.pid}
    titan_stop "$f" "worker $p" 45 &
  done
  wait
else
  titan_stop "$DIR/run/worker-$TARGET.pid" "worker $TARGET" 45
fi
