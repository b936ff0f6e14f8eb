"""A job's namespace holder: pid 1 of the job's user, mount, pid and network namespaces (see :mod:`.nodes`).

``unshare`` runs ``sh -s``, which reads its script from stdin: the network lines first, then the job's own (its
overlays, ``echo ready``); then it waits for more, and ends at EOF, taking every process of the job with it.
The holder of a one-worker job on the private network (the usual smoke test) is started before the job, with
its network made, so that the job's start only adds its overlays (:data:`ONE_WORKER_HOLDERS`).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading

from .standby import MOST, Standby, own_environment

#: node addresses: every job has a network namespace of its own, so every job may use the same subnet
SUBNET = "10.200.0"


def node_address(index: int) -> str:
    return f"{SUBNET}.{index + 2}"


def network_lines(count: int) -> list[str]:
    """Shell lines that make the job's private network: a bridge, and per worker a veth whose far end, ``eth0``,
    is in a network namespace of its own (``w<i>``) with the worker's address."""
    # one `ip -batch` for the job's namespace and one per worker: each ip process costs ~2.5 ms
    batch = ["link set lo up", "link add br0 type bridge", "link set br0 up"]
    for i in range(count):
        batch += [f"netns add w{i}", f"link add h{i} type veth peer name eth0 netns w{i}", f"link set h{i} master br0 up"]
    lines = ["mount -t tmpfs -o mode=755 tmpfs /run", "ip -batch - <<'EOF'", *batch, "EOF",
             "mkdir /run/sys " + " ".join(worker_sysfs(i) for i in range(count))]
    for i in range(count):
        worker = [f"ip -n w{i} -batch - <<'EOF'", "link set lo up", f"addr add {node_address(i)}/24 dev eth0",
                  "link set eth0 up", "EOF",
                  # a sysfs mounted from inside the worker's network namespace shows that namespace's interfaces
                  f"nsenter --net={worker_netns(i)} mount -t sysfs sysfs {worker_sysfs(i)}"]
        # the workers' parts side by side (each is two processes): a job's network is made in the time of one
        # worker's, not of all (`wait PID` of each: `set -e` then fails on any of them)
        lines += worker if count == 1 else ["(set -e", *worker, f") & w{i}=$!"]
    return lines + [f"wait $w{i}" for i in range(count) if count > 1]


def worker_netns(index: int) -> str:
    """Where the holder keeps worker ``index``'s network namespace (``ip netns add``), in its own /run."""
    return f"/run/netns/w{index}"


def worker_sysfs(index: int) -> str:
    """Where the holder mounts the /sys that worker ``index`` sees."""
    return f"/run/sys/w{index}"


def start_holder(network: list[str] | None) -> subprocess.Popen[bytes]:
    """A job's namespace holder: ``sh`` reading its script from stdin, as pid 1 of the job's namespaces.

    ``network``: the lines that make the private network (None: the host's network, no namespace of its own).
    The job's own lines (its overlays, then ``echo ready``) come later on the same stdin; after them the shell
    waits for more, and ends at EOF: when we close its stdin, or die.
    """
    argv = ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
            *(["--net"] if network is not None else []), "--", "/bin/sh", "-s"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=own_environment())
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):  # failed at once: the job's start reads why from its stderr
        proc.stdin.write("".join(f"{line}\n" for line in ["set -e", *(network or [])]).encode())
        proc.stdin.flush()
    return proc


#: the holders of the next one-worker jobs on the private network (the usual smoke test): their namespaces and
#: network made before a job asks (~15 ms off its start); see :mod:`.standby`. Two wait, so that a job that follows
#: another at once (the next test) finds one ready while the other's successor is still making its network.
ONE_WORKER_HOLDERS = Standby(lambda: start_holder(network_lines(1)), depth=2)

#: holders of jobs of more workers on the private network, two waiting (as for one worker) per worker count a job
#: of this process used (up to :data:`~.standby.MOST` workers): the next job of as many workers finds its network
#: made (~25 ms for 4 workers, more under load)
_HOLDERS: dict[int, Standby] = {1: ONE_WORKER_HOLDERS}
_HOLDERS_LOCK = threading.Lock()


def holders_for(count: int) -> Standby | None:
    """The standby of holders for jobs of ``count`` workers on the private network; None past MOST workers."""
    if count > MOST:
        return None
    with _HOLDERS_LOCK:
        if count not in _HOLDERS:
            _HOLDERS[count] = Standby(lambda: start_holder(network_lines(count)), depth=2)
        return _HOLDERS[count]
