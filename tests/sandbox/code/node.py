"""A boot file that reports what its node looks like, and talks to its peers (tests/sandbox)."""

import argparse
import json
import os
import pwd
import socket
import time

p = argparse.ArgumentParser()
p.add_argument("--data_url")
p.add_argument("--train_url")
p.add_argument("--port", type=int, default=29500)
p.add_argument("--host_port", type=int, default=0)
p.add_argument("--mode", default="report")
a, _ = p.parse_known_args()
index = int(os.environ["VC_TASK_INDEX"])
hosts = os.environ["VC_WORKER_HOSTS"].split(",")
me = os.environ["MA_VJ_NAME"]


def serve_once(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        conn.sendall(me.encode())


def ask(host: str, port: int, deadline: float) -> str:
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as conn:
                return conn.recv(200).decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


if a.mode == "report":
    report = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "home": os.environ["HOME"],
              "code": os.path.dirname(os.path.abspath(__file__)), "user": pwd.getpwuid(os.getuid()).pw_name,
              "resolved": {h: socket.gethostbyname(h) for h in hosts}, "ip": os.environ["MA_CURRENT_IP"],
              "interfaces": sorted(os.listdir("/sys/class/net"))}  # what NCCL and gloo look at: its own
    with open("/cache/scratch", "w") as fh:  # a writable /cache of its own
        fh.write(str(index))
    report["cache"] = open("/cache/scratch").read()
    # every worker binds the same port on all addresses, and reaches its peer there
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", a.port))
    server.listen()
    peer = hosts[(index + 1) % len(hosts)]
    import threading
    threading.Thread(target=serve_once, args=(server,), daemon=True).start()
    report["peer_says"] = ask(peer, a.port, time.monotonic() + 30)
    time.sleep(0.5)  # let the peer ask us too
    try:  # the host's loopback is not this node's
        socket.create_connection(("127.0.0.1", a.host_port), timeout=2).close()
        report["host_loopback"] = "reached"
    except OSError as exc:
        report["host_loopback"] = type(exc).__name__
    with open(os.path.join(a.train_url, f"worker-{index}.json"), "w") as fh:
        json.dump(report, fh)

elif a.mode == "plain":  # what a relocated run (no node) can do too
    with open(os.path.join(a.train_url, "worker-0.json"), "w") as fh:
        json.dump({"home": os.environ["HOME"], "uid": os.getuid()}, fh)
    print("plain run", flush=True)

elif a.mode == "rendezvous":  # worker 0 serves its job's name; the others must hear their own job's
    if index == 0:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", a.port))
        server.listen()
        for _ in hosts[1:]:
            serve_once(server)
    else:
        heard = ask(hosts[0], a.port, time.monotonic() + 30)
        assert heard == me, f"worker {index} of {me} heard {heard}"
        print(f"worker {index} heard its own master", flush=True)

elif a.mode == "write_inputs":
    with open(os.path.join(a.data_url, "a.csv"), "a") as fh:
        fh.write("appended by the job\n")
    open(os.path.join(a.data_url, "new.csv"), "w").write("new\n")
    os.remove(os.path.join(a.data_url, "b.csv"))
    print("wrote into data_url", flush=True)

elif a.mode == "lost_write":
    open("model.pkl", "w").write("weights")  # next to the code: online, lost
    open(os.path.join(a.train_url, "metrics.json"), "w").write("{}")
    open("/cache/tmp.bin", "w").write("scratch")
    open("/tmp/t", "w").write("tmp")

elif a.mode == "sleep":
    if os.fork() == 0:  # a daemon of its own session
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
    print("started", flush=True)
    time.sleep(600)
