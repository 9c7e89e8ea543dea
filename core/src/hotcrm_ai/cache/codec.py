"""How cached values become bytes and back: JSON in a small versioned envelope, never pickle.

A shared cache is written by every instance that can reach Redis; unpickling what it holds would be
a code-execution path, so values are JSON (attrs objects go through the project's one converter).
Writing uses the standard library (it refuses NaN; orjson would quietly write ``null``); reading uses
orjson when installed, because every cache hit pays for parsing and orjson parses 3-5x faster.
The envelope ``{"v": 1, "d": value}`` makes a foreign writer's bytes, a truncated value or an older
format fail to decode: the manager treats that as a miss and overwrites it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs


def _pick_loads() -> Callable[[bytes | str], Any]:
    try:  # optional accelerator (hotcrm-ai[fast]): 3-5x faster to parse; strict JSON like ours
        import orjson
    except ImportError:  # pragma: no cover - exercised where orjson is not installed
        return json.loads
    return orjson.loads  # type: ignore[no-any-return]


_loads = _pick_loads()

FORMAT = 1


class DecodeError(ValueError):
    """The stored bytes are not a value we wrote (garbage, truncated, other format or type)."""


def _default(obj: Any) -> Any:
    if attrs.has(type(obj)):
        from hotcrm_ai.converter import unstructure

        return unstructure(obj)
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default)


def encode(value: Any) -> bytes:
    """JSON bytes of ``value`` (TypeError/ValueError if it has no finite JSON form)."""
    return _ENCODER.encode({"v": FORMAT, "d": value}).encode("utf-8")


def decode(raw: bytes, type_: type | None = None) -> Any:
    """The value in ``raw``; with ``type_`` it is structured through the converter. ``DecodeError`` if not ours."""
    try:
        doc = _loads(raw)
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise DecodeError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != FORMAT or "d" not in doc or len(doc) != 2:
        raise DecodeError("not a hotcrm-ai cache envelope")
    if type_ is None:
        return doc["d"]
    from hotcrm_ai.converter import structure
    from hotcrm_ai.errors import ValidationError

    try:
        return structure(doc["d"], type_)
    except ValidationError as exc:
        raise DecodeError(f"does not match {type_.__name__}: {exc}") from None
