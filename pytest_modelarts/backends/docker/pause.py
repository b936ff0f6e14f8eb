"""The pause image: the holder of an offline multi-node job's network namespace (Kubernetes' pause container).

No image can be pulled here, so the image is imported locally from a tiny static program written below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .owners import LABEL

if TYPE_CHECKING:
    import docker

PAUSE_REPOSITORY = f"{LABEL}/pause"


def _pause_program() -> bytes | None:
    """A static x86-64 Linux program that sleeps in ``pause()`` forever (129 bytes), or None on another machine.

    It is the body of the network-namespace holder of offline multi-node jobs, the role Kubernetes gives its
    pause container. Written here because no image can be pulled: ELF header, one loadable segment, and
    ``loop: mov eax, 34 (pause); syscall; jmp loop``.
    """
    import platform
    import struct

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    base, header_size = 0x400000, 64 + 56
    code = bytes.fromhex("b822000000" "0f05" "ebf7")
    size = header_size + len(code)
    elf = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    elf += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, base + header_size, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    elf += struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return elf + code


def ensure_pause_image(client: docker.DockerClient) -> str | None:
    """The local pause image (imported once, tagged by content), or None where :func:`_pause_program` has none."""
    import hashlib
    import io
    import tarfile

    import docker.errors

    program = _pause_program()
    if program is None:
        return None
    tag = hashlib.sha256(program).hexdigest()[:12]
    ref = f"{PAUSE_REPOSITORY}:{tag}"
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("pause")
        info.size, info.mode = len(program), 0o755
        tar.addfile(info, io.BytesIO(program))
    client.api.import_image_from_data(buf.getvalue(), repository=PAUSE_REPOSITORY, tag=tag)
    return ref
