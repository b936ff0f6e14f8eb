"""A multi-node job: workers meet over TCP at the first host of VC_WORKER_HOSTS (the master, VC_TASK_INDEX 0).

The port comes from --port=N or the variable ``port`` (custom-image jobs get hyperparameters as variables).
``--fail_worker=I`` makes worker I exit 3 before it connects, while the others wait for it for ever: the job
must fail and stop them.
"""
import argparse
import os
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=int(os.environ.get("port", "0") or 0))
parser.add_argument("--fail_worker", type=int, default=int(os.environ.get("fail_worker", "-1")))
parser.add_argument("--train_url", default=os.path.join(os.environ.get("MA_MOUNT_PATH", ""), "outputs", "train_url_0"))
args, _ = parser.parse_known_args()

hosts = os.environ["VC_WORKER_HOSTS"].split(",")
index = int(os.environ["VC_TASK_INDEX"])
count = int(os.environ["MA_NUM_HOSTS"])
assert len(hosts) == count == int(os.environ["VC_WORKER_NUM"]), (hosts, count)
master = hosts[0]
print(f"worker {index} of {count}, master {master}:{args.port}, me {os.environ['MA_CURRENT_IP']}", flush=True)

if index == 0:
    server = socket.create_server((os.environ["MA_CURRENT_IP"], args.port))
    server.settimeout(120)
    peers = {}
    while len(peers) < count - 1:
        conn, _ = server.accept()
        peers[int(conn.makefile().readline())] = conn
        print(f"master: worker joined ({len(peers)}/{count - 1})", flush=True)
    for conn in peers.values():
        conn.sendall(b"go\n")
    with open(os.path.join(args.train_url, "rendezvous.txt"), "w") as fh:
        fh.write(",".join(str(i) for i in sorted(peers)) + "\n")
    print("master: all workers met", flush=True)
elif index == args.fail_worker:
    time.sleep(0.5)  # let the others start waiting
    print(f"worker {index}: failing on purpose", flush=True)
    sys.exit(3)
else:
    print(f"worker {index}: connecting", flush=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            conn = socket.create_connection((master, args.port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    conn.sendall(f"{index}\n".encode())
    conn.settimeout(None)
    assert conn.makefile().readline().strip() == "go"
    with open(os.path.join(args.train_url, f"worker-{index}.txt"), "w") as fh:
        fh.write("met\n")
    print(f"worker {index}: met the master", flush=True)
