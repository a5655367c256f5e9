import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--version", required=True)
print(f"built release {parser.parse_args().version}", flush=True)
