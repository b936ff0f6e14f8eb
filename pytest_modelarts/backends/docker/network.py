"""The subnet of a job's network: free, chosen here, so that the network is made once with fixed addresses."""

from __future__ import annotations

import ipaddress
import random
import socket
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker

#: where job networks take a /24 from (inside Docker's own default pools, which skip what is taken)
JOB_SUBNETS = ipaddress.IPv4Network("172.30.0.0/15")


def _host_routes() -> list[ipaddress.IPv4Network]:
    """This host's IPv4 routes (``/proc/net/route``) but the default: a job network must not shadow them."""
    routes: list[ipaddress.IPv4Network] = []
    try:
        with open("/proc/net/route") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return routes
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or fields[1] == "00000000":
            continue
        try:
            dest = socket.inet_ntoa(struct.pack("<I", int(fields[1], 16)))
            mask = socket.inet_ntoa(struct.pack("<I", int(fields[7], 16)))
            routes.append(ipaddress.IPv4Network(f"{dest}/{mask}", strict=False))
        except (ValueError, OSError):
            continue
    return routes


def taken_subnets(client: docker.DockerClient) -> list[ipaddress.IPv4Network]:
    """Subnets of every Docker network (one listing) and of this host's routes."""
    taken = _host_routes()
    for net in client.api.networks():
        for config in (net.get("IPAM") or {}).get("Config") or []:
            try:
                subnet = ipaddress.ip_network(config.get("Subnet", ""), strict=False)
            except ValueError:
                continue
            if isinstance(subnet, ipaddress.IPv4Network):
                taken.append(subnet)
    return taken


def free_subnet(client: docker.DockerClient) -> ipaddress.IPv4Network | None:
    """A /24 of :data:`JOB_SUBNETS` that overlaps nothing taken, from a random start (concurrent runs differ);
    None when every one is taken (e.g. a VPN routes all of 172.16.0.0/12 here)."""
    taken = taken_subnets(client)
    blocks = list(JOB_SUBNETS.subnets(new_prefix=24))
    first = random.randrange(len(blocks))
    for block in blocks[first:] + blocks[:first]:
        if not any(block.overlaps(t) for t in taken):
            return block
    return None


def daemon_subnet(client: docker.DockerClient, name: str, labels: dict[str, str]) -> ipaddress.IPv4Network:
    """A subnet the daemon picks from its own pools: a probe network made and removed (the slow way, two more
    calls), where :func:`free_subnet` finds none."""
    probe = client.networks.create(name, driver="bridge", labels=labels)
    try:
        probe.reload()
        return ipaddress.IPv4Network(probe.attrs["IPAM"]["Config"][0]["Subnet"], strict=False)
    finally:
        probe.remove()
