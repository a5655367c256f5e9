"""One step of the agent loop: improves the value and writes it to result.json (an artifact)."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--round", type=int, required=True)
parser.add_argument("--value", type=int, required=True)
args = parser.parse_args()

value = args.value * 3
with open(os.path.join(os.environ["TITAN_OUTPUT_DIR"], "result.json"), "w") as f:
    json.dump({"round": args.round, "value": value}, f)
print(f"round {args.round}: {args.value} -> {value}", flush=True)
