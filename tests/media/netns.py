"""A small internet in Linux network namespaces: a relay on a cloud VM's private address
behind its provider's 1:1 NAT, and a shopper at home behind an ordinary home router.

    relay 10.77.0.2 ── cloud (1:1 NAT 203.0.113.10 <-> 10.77.0.2) ── 203.0.113.0/24
        ── home (masquerade) ── viewer 192.168.77.2

Only the public address reaches the relay: the cloud forwards from outside nothing but
what it translated, as a provider's NAT does, and the relay has no route back to a home
network. Each namespace's addresses are its own, so parallel runs (xdist workers) only
need names of their own: every name carries this process's id and a random tag, and a
namespace left behind by a process that no longer exists is removed by the next run.

Peers run in a thread that has entered the viewer's namespace (`setns` moves one
thread): the sockets asyncio opens there, and the interfaces aioice lists, are the
namespace's. The relay runs as its own process through `ip netns exec`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

PREFIX = "vtnat-"
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000

RELAY_PRIVATE = "10.77.0.2"
RELAY_PUBLIC = "203.0.113.10"  # TEST-NET-3: never routed on the real internet
CLOUD_LAN, CLOUD_WAN = "10.77.0.1", "203.0.113.1"
HOME_WAN, HOME_LAN = "203.0.113.20", "192.168.77.1"
VIEWER = "192.168.77.2"

T = TypeVar("T")


class NetnsUnavailable(RuntimeError):
    """Why this machine cannot build the namespaces (the test skips with it)."""


def _tool(name: str) -> str:
    path = shutil.which(name) or f"/usr/sbin/{name}"
    if not os.access(path, os.X_OK):
        raise NetnsUnavailable(f"`{name}` is not installed (scripts/ensure-deploy-tools)")
    return path


def unavailable_reason() -> str | None:
    """None when this process can build namespaces and NAT rules, else why not."""
    if os.geteuid() != 0:
        return "network namespaces and NAT rules need root"
    try:
        ip, nft = _tool("ip"), _tool("nft")
    except NetnsUnavailable as exc:
        return str(exc)
    probe = f"{PREFIX}{os.getpid()}-probe{secrets.token_hex(2)}"
    made = subprocess.run([ip, "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    try:
        table = subprocess.run(
            [ip, "netns", "exec", probe, nft, "add", "table", "ip", "probe"],
            capture_output=True,
            text=True,
        )
        if table.returncode != 0:
            return f"nftables does not work in a namespace: {table.stderr.strip()}"
    finally:
        subprocess.run([ip, "netns", "del", probe], capture_output=True)
    return None


def remove_stale() -> None:
    """Namespaces of earlier runs whose process is gone (a run killed mid-test)."""
    if not NETNS_DIR.is_dir():
        return
    for entry in NETNS_DIR.iterdir():
        if not entry.name.startswith(PREFIX):
            continue
        owner = entry.name[len(PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            subprocess.run([_tool("ip"), "netns", "del", entry.name], capture_output=True)


CLOUD_RULES = f"""
table ip nat {{
  chain prerouting {{
    type nat hook prerouting priority dstnat;
    ip daddr {RELAY_PUBLIC} dnat to {RELAY_PRIVATE}
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat;
    oifname "wan" ip saddr {RELAY_PRIVATE} snat to {RELAY_PUBLIC}
  }}
}}
table ip filter {{
  chain forward {{
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" accept
    iifname "wan" ct status dnat accept
  }}
}}
"""

HOME_RULES = """
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
table ip filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" accept
  }
}
"""


class NatNetwork:
    """The four namespaces, their links, routes and NAT rules; `destroy()` removes them
    all (and with them every interface), whatever state `build()` stopped in."""

    ROLES = ("relay", "cloud", "home", "viewer")

    def __init__(self) -> None:
        self.ip, self.nft = _tool("ip"), _tool("nft")
        tag = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.names = {role: f"{tag}-{role}" for role in self.ROLES}
        self.created: list[str] = []

    def _ip(self, *args: str) -> None:
        subprocess.run([self.ip, *args], check=True, capture_output=True, text=True)

    def _in(self, role: str, *cmd: str, stdin: str | None = None) -> None:
        subprocess.run(
            [self.ip, "netns", "exec", self.names[role], *cmd],
            check=True,
            capture_output=True,
            text=True,
            input=stdin,
        )

    def _link(self, a: str, a_if: str, b: str, b_if: str) -> None:
        # Made inside the first namespace, its peer straight in the second: no interface
        # ever exists in the machine's own namespace, so names cannot clash there.
        self._ip(
            "-n", self.names[a], "link", "add", a_if, "type", "veth",
            "peer", "name", b_if, "netns", self.names[b],
        )  # fmt: skip

    def _address(self, role: str, interface: str, *cidrs: str) -> None:
        for cidr in cidrs:
            self._ip("-n", self.names[role], "addr", "add", cidr, "dev", interface)
        self._ip("-n", self.names[role], "link", "set", interface, "up")

    def build(self) -> NatNetwork:
        for role in self.ROLES:
            self._ip("netns", "add", self.names[role])
            self.created.append(self.names[role])
            self._ip("-n", self.names[role], "link", "set", "lo", "up")
        self._link("relay", "eth0", "cloud", "lan")
        self._link("cloud", "wan", "home", "wan")
        self._link("home", "lan", "viewer", "eth0")
        self._address("relay", "eth0", f"{RELAY_PRIVATE}/24")
        # The public address is the cloud's: it answers ARP for it and translates.
        self._address("cloud", "lan", f"{CLOUD_LAN}/24")
        self._address("cloud", "wan", f"{CLOUD_WAN}/24", f"{RELAY_PUBLIC}/32")
        self._address("home", "wan", f"{HOME_WAN}/24")
        self._address("home", "lan", f"{HOME_LAN}/24")
        self._address("viewer", "eth0", f"{VIEWER}/24")
        self._ip("-n", self.names["relay"], "route", "add", "default", "via", CLOUD_LAN)
        self._ip("-n", self.names["home"], "route", "add", "default", "via", CLOUD_WAN)
        self._ip("-n", self.names["viewer"], "route", "add", "default", "via", HOME_LAN)
        for router, rules in (("cloud", CLOUD_RULES), ("home", HOME_RULES)):
            # /proc/sys/net is the namespace's own for a process inside it.
            self._in(router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
            self._in(router, self.nft, "-f", "-", stdin=rules)
        return self

    def destroy(self) -> None:
        for name in reversed(self.created):
            subprocess.run([self.ip, "netns", "del", name], capture_output=True)
        self.created.clear()

    def popen(
        self, role: str, cmd: list[str], *, env: dict[str, str], log: IO[bytes], cwd: Path
    ) -> subprocess.Popen[bytes]:
        """`cmd` as a process inside `role`'s namespace (`ip netns exec` execs it: the
        process id is the command's own)."""
        return subprocess.Popen(
            [self.ip, "netns", "exec", self.names[role], *cmd],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=log,
        )

    def run(self, role: str, scenario: Callable[[], Awaitable[T]]) -> T:
        """`scenario()` on an event loop of its own, in a thread inside `role`'s namespace;
        its result, or its exception raised here."""
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                enter(NETNS_DIR / self.names[role])

                async def main() -> T:
                    return await scenario()

                outcome["result"] = asyncio.run(main())
            except BaseException as exc:  # handed to the test's thread
                outcome["error"] = exc

        thread = threading.Thread(target=target, name=f"netns-{role}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        result: T = outcome["result"]
        return result


def enter(netns: Path) -> None:
    """Move the calling thread (only it, and the threads it starts) into `netns`."""
    libc = ctypes.CDLL(None, use_errno=True)
    with netns.open("rb") as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns({netns}): {os.strerror(errno)}")


@contextlib.contextmanager
def nat_network() -> Iterator[NatNetwork]:
    """The namespaces for one test; removed afterwards, also when the test fails."""
    remove_stale()
    network = NatNetwork()
    try:
        yield network.build()
    finally:
        network.destroy()
