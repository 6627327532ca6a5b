"""JSON from a person or a device, parsed with its failures as ``ClientError`` (stdlib only)."""

from __future__ import annotations

import json
from typing import Any

from fakedevices.client.transport import ClientError

MAX_JSON_BYTES = 1 << 20


def parse_json(text: str | bytes, what: str) -> Any:
    """``text`` as JSON; ``ClientError`` naming ``what`` for text that is not, too deep or too large."""
    if len(text) > MAX_JSON_BYTES:
        raise ClientError(f"{what} is {len(text)} bytes; at most {MAX_JSON_BYTES} (the protocol's line limit)")
    try:
        return json.loads(text)
    except RecursionError:
        raise ClientError(f"{what} nests too deeply; send a flatter object") from None
    except ValueError as exc:
        # JSONDecodeError, and integers longer than Python converts.
        raise ClientError(f"{what} is not JSON: {str(exc)[:200]}") from None
