"""Transform one shard of the raw records (every n-th record) and write it back as a part."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--shard", type=int, required=True)
parser.add_argument("--of", type=int, required=True)
args = parser.parse_args()

shared = os.environ["TITAN_SHARED_DIR"]
with open(os.path.join(shared, "raw.json")) as f:
    records = json.load(f)
part = [{"id": r["id"], "square": r["value"] ** 2} for r in records[args.shard :: args.of]]
with open(os.path.join(shared, f"part-{args.shard}.json"), "w") as f:
    json.dump(part, f)
print(f"shard {args.shard}/{args.of}: {len(part)} records", flush=True)
