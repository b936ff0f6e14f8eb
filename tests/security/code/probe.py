"""A boot file that tries to reach what a ModelArts container never shows: it reports, for every path given,
what reading it (and, for --write, creating a file in it) came to (tests/security)."""

import argparse
import json
import os
import sys

p = argparse.ArgumentParser()
p.add_argument("--read", default="[]")
p.add_argument("--write", default="[]")
p.add_argument("--list", default="[]")
p.add_argument("--hold", default="")
a, _ = p.parse_known_args()


def attempt(action, path):
    try:
        action(path)
        return "done"
    except OSError as exc:
        return type(exc).__name__


def read(path):
    if os.path.isdir(path):
        os.listdir(path)
    else:
        with open(path, "rb") as fh:
            fh.read(1)


def write(path):
    if os.path.isdir(path):
        with open(os.path.join(path, "probe-was-here"), "w") as fh:
            fh.write("x")
    else:
        with open(path, "ab") as fh:
            fh.write(b"# probe was here\n")


report = {"read": {path: attempt(read, path) for path in json.loads(a.read)},
          "write": {path: attempt(write, path) for path in json.loads(a.write)},
          "list": {path: sorted(os.listdir(path)) if os.path.isdir(path) else None for path in json.loads(a.list)},
          "prefix": sys.prefix, "root": sorted(os.listdir("/"))}
print("PROBE " + json.dumps(report), flush=True)
if a.hold:  # a job that keeps its /cache busy while another looks for it
    with open("/cache/token", "w") as fh:
        fh.write(a.hold)
    import time

    while True:
        time.sleep(0.2)
