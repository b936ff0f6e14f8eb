"""``python -m pytest_modelarts.emulator``: run the ModelArts/OBS emulator until Ctrl-C.

Every variable a client needs is printed as a shell export (the endpoints, the project, the keys), then a
``# buckets`` line once it serves; SIGTERM or Ctrl-C stops it. The keys are those given with
``--access-key``/``--secret-key``, printed (test keys, already on the command line); else
``HUAWEICLOUD_SDK_AK``/``HUAWEICLOUD_SDK_SK``, which may be real credentials and are not printed (the
environment that set them has them); else fresh random test keys, printed. For CI, e.g.::

    python -m pytest_modelarts.emulator --bucket my-bucket > emulator.env &
    until grep -q '^# buckets' emulator.env; do sleep 0.1; done
    . ./emulator.env
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shlex
import signal
import sys
import threading

from .server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_modelarts.emulator",
                                     description="Emulate the ModelArts v2 training-job API and OBS on loopback.")
    parser.add_argument("--access-key", help="a test access key (printed); default: $HUAWEICLOUD_SDK_AK (not printed), else a random one")
    parser.add_argument("--secret-key", help="a test secret key (printed); default: $HUAWEICLOUD_SDK_SK (not printed), else a random one")
    parser.add_argument("--project-id", default=os.environ.get("HUAWEICLOUD_SDK_PROJECT_ID", "emulator-project"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="ModelArts API port (default: any free port)")
    parser.add_argument("--obs-port", type=int, default=0, help="OBS port (default: any free port)")
    parser.add_argument("--root", default=None, help="state directory (OBS objects, job runs); default: a temporary one")
    parser.add_argument("--bucket", action="append", default=None, help="bucket to create (repeatable)")
    parser.add_argument("--phase-delay", type=float, default=0.5, help="seconds spent in Creating and in Pending")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests that fail")
    parser.add_argument("--fault-kinds", default="500,503,429", help="comma-separated: 500,502,503,504,429,slow,drop,drop_after,500_after")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if bool(args.access_key) != bool(args.secret_key):
        parser.error("give both --access-key and --secret-key, or neither")
    printed_keys = True
    if not args.access_key:
        environment = os.environ.get("HUAWEICLOUD_SDK_AK"), os.environ.get("HUAWEICLOUD_SDK_SK")
        if all(environment):
            (args.access_key, args.secret_key), printed_keys = environment, False
        elif any(environment):
            parser.error("HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK: set both or neither (or give --access-key and --secret-key)")
        else:
            args.access_key, args.secret_key = f"EMULATOR{secrets.token_hex(6).upper()}", secrets.token_urlsafe(24)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("the emulator serves on loopback only")
    emulator = Emulator(args.access_key, args.secret_key, args.project_id, root=args.root,
                        buckets=tuple(args.bucket or ["modelarts-emulator"]), host=args.host, port=args.port,
                        obs_port=args.obs_port, phase_delay=args.phase_delay, seed=args.seed)
    if args.fault_rate:
        emulator.faults.inject(args.fault_rate, tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()))
    done = threading.Event()
    # before anything is announced: a caller may stop us as soon as it has read the endpoints
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with emulator, contextlib.suppress(KeyboardInterrupt):
        for name, value in emulator.env().items():
            if printed_keys or name not in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):
                print(f"export {name}={shlex.quote(value)}")
        if not printed_keys:
            print("# HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK: this environment's, not printed")
        print(f"# buckets: {', '.join(emulator.buckets)}; state in {emulator.root}", flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
