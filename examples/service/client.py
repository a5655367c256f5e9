"""Calls the `api` service of the same run, found through $TITAN_SERVICE_API (host:port)."""
import argparse
import json
import os
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--name", default="world")
args = parser.parse_args()

address = os.environ["TITAN_SERVICE_API"]
with urllib.request.urlopen(f"http://{address}/greet?name={args.name}", timeout=10) as res:
    body = json.load(res)
print(f"api at {address} said: {body['greeting']}", flush=True)
