import os

print(f"report on {os.environ['TITAN_WORKER_ID']} (GENERAL)", flush=True)
