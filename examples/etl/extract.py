"""Extract: writes the raw records to the run's shared folder."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=10)
args = parser.parse_args()

records = [{"id": i, "value": i} for i in range(args.rows)]
path = os.path.join(os.environ["TITAN_SHARED_DIR"], "raw.json")
with open(path, "w") as f:
    json.dump(records, f)
print(f"extracted {len(records)} records to {path}", flush=True)
