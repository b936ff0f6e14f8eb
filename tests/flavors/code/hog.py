import argparse
import os
import shutil
import subprocess

p = argparse.ArgumentParser()
p.add_argument("--mib", type=int, default=0)
a, _ = p.parse_known_args()
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() if shutil.which("nproc") else "none"
print(f"nproc={nproc} affinity={len(os.sched_getaffinity(0))} MA_NUM_GPUS={os.environ.get('MA_NUM_GPUS')}", flush=True)
blocks = []
for _ in range(a.mib):
    block = bytearray(1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # every page touched: resident, not only reserved
    blocks.append(block)
print(f"allocated {a.mib} MiB", flush=True)
