"""Prints what one worker sees of its node as one line, ``NODE-VIEW <json>``: the plan-parity test compares them.

It sends nothing over any network: the outside is judged by the routing table, peers by name resolution.
"""
import argparse
import json
import os
import socket
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--data_url")
parser.add_argument("--train_url")
args, _ = parser.parse_known_args()
env = dict(os.environ)


def size(path):
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_blocks * st.f_frsize


def resolves(host):
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


def default_route():
    with open("/proc/net/route") as fh:
        return any(line.split()[1] == "00000000" for line in fh.readlines()[1:] if line.strip())


if "VC_WORKER_HOSTS" in env:
    hosts = env["VC_WORKER_HOSTS"].split(",")
else:
    hosts = [env[f"BATCH_CUSTOM{i}_HOSTS"].rsplit(":", 1)[0] for i in range(int(env["DLS_TASK_NUMBER"]))]
index = int(env.get("VC_TASK_INDEX", env.get("DLS_TASK_INDEX", "0")))
home = env["HOME"]
job_dir = env.get("MA_JOB_DIR", os.path.join(home, "user-job-dir"))

import moxing as mox  # noqa: E402 - as a boot file imports it, after its own setup

mine = f"view-{index}.txt"
if args.train_url.startswith("obs://"):
    inputs = sorted(mox.file.list_directory(args.data_url))
    mox.file.write(args.train_url.rstrip("/") + "/" + mine, "written")
else:
    inputs = sorted(os.listdir(args.data_url))
    with open(os.path.join(args.train_url, mine), "w") as fh:
        fh.write("written")
view = {
    "argv": sys.argv[1:],
    "script": sys.argv[0],
    "python": list(sys.version_info[:2]),
    "env": env,
    "uid": os.getuid(),
    "gid": os.getgid(),
    "cwd": os.getcwd(),
    "job_dir_files": sorted(os.listdir(job_dir)),
    "inputs": inputs,
    "wrote_train_url": True,
    "cache_writable": os.access("/cache", os.W_OK),
    "shm_at_least_1g": (size("/dev/shm") or 0) >= 1024**3,
    "shm_writable": os.access("/dev/shm", os.W_OK),
    "hostname": socket.gethostname(),
    "peers_resolve": [resolves(h) is not None for h in hosts],
    "own_host_is_current_ip": resolves(hosts[index]) == env.get("MA_CURRENT_IP", resolves(hosts[index])),
    "default_route": default_route(),
    "moxing": mox.__name__,
}
print("NODE-VIEW " + json.dumps(view, sort_keys=True), flush=True)
