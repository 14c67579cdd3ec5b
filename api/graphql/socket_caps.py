"""Caps on open WebSockets per IP and per citizen, so one client cannot hold thousands of sockets.

Each socket takes a `Slot` for its IP when it opens (over `SUPERAPP_WS_MAX_PER_IP`: closed at once) and
adds its citizen when `connection_init` authenticates it (over `SUPERAPP_WS_MAX_PER_CITIZEN`: closed);
both are given back when the socket ends, however it ends. The counts are per worker process: with N
workers a client can hold up to N times a cap, which still bounds it (docs/ARCHITECTURE.md).

Over a cap the socket closes with 4429 "Too many connections": graphql-ws clients treat 4429 as fatal and
do not reconnect in a loop (mobile_contract/README.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from core import metrics

TOO_MANY = 4429
TOO_MANY_REASON = "Too many connections"


@dataclass
class Slot:
    caps: SocketCaps
    ip: str
    citizen: str | None = None

    def claim_citizen(self, citizen: str) -> bool:
        """Count this socket against `citizen` (once); False when that would pass the cap."""
        if self.citizen == citizen:
            return True
        if self.caps.citizens[citizen] >= self.caps.per_citizen:
            metrics.WEBSOCKETS_REFUSED.labels(reason="per_citizen").inc()
            return False
        self._release_citizen()
        self.caps.citizens[citizen] += 1
        self.citizen = citizen
        return True

    def release(self) -> None:
        self._release_citizen()
        self.caps.ips[self.ip] -= 1
        if self.caps.ips[self.ip] <= 0:
            del self.caps.ips[self.ip]
        metrics.WEBSOCKETS_OPEN.dec()

    def _release_citizen(self) -> None:
        if self.citizen is not None:
            self.caps.citizens[self.citizen] -= 1
            if self.caps.citizens[self.citizen] <= 0:
                del self.caps.citizens[self.citizen]
            self.citizen = None


@dataclass
class SocketCaps:
    per_ip: int
    per_citizen: int
    ips: Counter[str] = field(default_factory=Counter)
    citizens: Counter[str] = field(default_factory=Counter)

    def open(self, ip: str) -> Slot | None:
        """A slot for a new socket from `ip`, or None when the IP already has its cap."""
        if self.ips[ip] >= self.per_ip:
            metrics.WEBSOCKETS_REFUSED.labels(reason="per_ip").inc()
            return None
        self.ips[ip] += 1
        metrics.WEBSOCKETS_OPEN.inc()
        return Slot(self, ip)
