import os

print(f"prep on {os.environ['TITAN_WORKER_ID']} (GENERAL)", flush=True)
