"""A second entry of the same project, in another folder."""
from pathlib import Path

lines = (Path("..") / "data" / "input.csv").read_text().splitlines()
print(f"report: {len(lines) - 1} cities in data/input.csv", flush=True)
