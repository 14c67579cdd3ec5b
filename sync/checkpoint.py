"""Checkpoints: opaque to the app, server-issued, and made only of sequence numbers (never of a clock).

Encoded as base64url(JSON) without padding: `{"v":1,"e":epoch,"sv":schema,"u":citizen,"c":seq,"p":seq}`,
where `c` is the position in the citizen's scope and `p` in the public (catalogue) scope.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from core import json_body

FORMAT = 1


class BadCheckpoint(ValueError):
    """Not a checkpoint this server issued (garbage, truncated, or another format)."""


@dataclass(frozen=True)
class Checkpoint:
    epoch: int
    schema_version: int
    citizen_id: int
    citizen_seq: int = 0
    public_seq: int = 0

    def encode(self) -> str:
        body = {"v": FORMAT, "e": self.epoch, "sv": self.schema_version, "u": self.citizen_id,
                "c": self.citizen_seq, "p": self.public_seq}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Checkpoint:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = json_body.loads(raw)  # the one parser for outside JSON: bounded depth and numbers
            values = [body["e"], body["sv"], body["u"], body["c"], body["p"]]
        except (ValueError, TypeError, KeyError) as exc:
            raise BadCheckpoint(text[:16]) from exc
        if body.get("v") != FORMAT or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                              for v in values):
            raise BadCheckpoint(text[:16])
        return cls(*values)
