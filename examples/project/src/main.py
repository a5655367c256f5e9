"""Runs from src/ inside the unpacked project: imports a sibling package and reads ../data."""
import argparse
import csv
import os
from pathlib import Path

from lib.helpers import shout

parser = argparse.ArgumentParser()
parser.add_argument("--greeting", required=True)
parser.add_argument("--rows", type=int, default=1)
args = parser.parse_args()

print(f"greeting: {shout(args.greeting)}", flush=True)
with open(Path("..") / "data" / "input.csv") as f:
    rows = list(csv.DictReader(f))[: args.rows]
for row in rows:
    print(f"row: {row['city']} {row['population']}", flush=True)

# What the worker unpacked: everything but what .titanignore (and the fixed list) left out.
root = Path(__file__).resolve().parent.parent
files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
print(f"files: {' '.join(files)}", flush=True)
print(f"cwd: {os.getcwd()}", flush=True)
