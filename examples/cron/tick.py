import argparse
import datetime
import os

parser = argparse.ArgumentParser()
parser.add_argument("--message", default="tick")
args = parser.parse_args()
now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
print(f"{now} run {os.environ['TITAN_RUN_ID']}: {args.message}", flush=True)
