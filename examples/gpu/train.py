"""Stands in for a training job: it only shows where it ran (a worker with the GPU capability)."""
import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

for epoch in range(1, args.epochs + 1):
    print(f"epoch {epoch}/{args.epochs}", flush=True)
print(f"trained on {os.environ['TITAN_WORKER_ID']} (GPU)", flush=True)
