"""Listening TCP sockets, read from /proc (Linux): which addresses and ports processes
listen on, without psutil or `ss`."""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"


def _address(hex_address: str) -> str:
    """An address as /proc/net/tcp{,6} print it: 32-bit words in host byte order."""
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(raw))


def listening_sockets() -> dict[int, tuple[str, int]]:
    """Socket inode → (address, port) of every listening TCP socket of the machine."""
    found: dict[int, tuple[str, int]] = {}
    for table in ("tcp", "tcp6"):
        lines = (PROC / "net" / table).read_text(encoding="ascii").splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[3] != LISTEN:
                continue
            address, port = fields[1].split(":")
            found[int(fields[9])] = (_address(address), int(port, 16))
    return found


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open."""
    inodes: set[int] = set()
    fds = PROC / str(pid) / "fd"
    for fd in os.listdir(fds):
        try:
            target = os.readlink(fds / fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def listening_of(pids: Iterable[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the processes `pids` listen on."""
    sockets = listening_sockets()
    return {sockets[inode] for pid in pids for inode in socket_inodes(pid) if inode in sockets}
