#!/usr/bin/env bash
# Stop the Titan master started by ./start_master.sh (graceful; its data is kept).
# Usage: ./stop_master.sh
set -euo pipefail
umask 077

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=common.sh
. "$DIR/lib/common.sh"

case ${1:-} in
  -h | --help)
    echo "Usage: ./stop_master.sh"
    echo "Stops the master started by ./start_master.sh (SIGTERM, then SIGKILL after 30 s). Its data (titan-data/) is kept."
    exit 0
    ;;
  '') ;;
  *) titan_err "error: unexpected argument \"$1\" (usage: ./stop_master.sh)"; exit 2 ;;
esac

titan_stop "$DIR/run/master.pid" master 30
