"""Small jobs for the isolation and lifecycle tests, chosen by --mode (or the variable ``mode``)."""
import argparse
import os
import socket
import time

parser = argparse.ArgumentParser()
parser.add_argument("--mode", default=os.environ.get("mode"))
parser.add_argument("--target", default=os.environ.get("target"))
parser.add_argument("--data_url", default=os.path.join(os.environ["MA_MOUNT_PATH"], "inputs", "data_url_0"))
args, _ = parser.parse_known_args()

if args.mode == "sleep":
    print("sleeping", flush=True)
    time.sleep(600)
elif args.mode == "connect":
    # try every target; report each outcome
    for target in args.target.split(","):
        host, port = target.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=3) as conn:
                print(f"{target}: reached {conn.recv(16).decode().strip()}", flush=True)
        except OSError as exc:
            print(f"{target}: unreachable ({exc.__class__.__name__})", flush=True)
elif args.mode == "oom":
    hog = []
    for _ in range(4096):
        hog.append(bytearray(1024 * 1024))  # touched pages: 1 MiB each
    print("allocated 4 GiB without being stopped", flush=True)
elif args.mode == "wait_for_go":
    print("first line", flush=True)
    while not os.path.exists(os.path.join(args.data_url, "go")):
        time.sleep(0.05)
    print("got go", flush=True)
elif args.mode == "first_leaves":
    # worker 0 ends at once; the others start later and still need their loopback network
    if os.environ["VC_TASK_INDEX"] != "0":
        time.sleep(0.3)
        with socket.socket() as server:
            server.bind((os.environ["MA_CURRENT_IP"], 0))
            print("bound", server.getsockname()[0], flush=True)
elif args.mode == "same_output":
    # every worker writes the same output file, with its own contents (the multi-node trip-up)
    with open(os.path.join(os.environ["MA_MOUNT_PATH"], "outputs", "train_url_0", "model.pkl"), "w") as fh:
        fh.write(f"weights of worker {os.environ['VC_TASK_INDEX']}")
else:
    raise SystemExit(f"unknown mode {args.mode!r}")
