"""Load: merges the parts and publishes a report (files in $TITAN_OUTPUT_DIR become artifacts)."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--parts", type=int, required=True)
args = parser.parse_args()

shared = os.environ["TITAN_SHARED_DIR"]
rows = []
for shard in range(args.parts):
    with open(os.path.join(shared, f"part-{shard}.json")) as f:
        rows.extend(json.load(f))
total = sum(r["square"] for r in rows)
report = {"rows": len(rows), "total": total}
with open(os.path.join(os.environ["TITAN_OUTPUT_DIR"], "report.json"), "w") as f:
    json.dump(report, f)
print(f"loaded {len(rows)} rows, total {total}", flush=True)
