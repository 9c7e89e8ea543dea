"""How cached values become bytes and back: JSON in a small versioned envelope, never pickle.

A shared cache is written by every instance that can reach Redis; unpickling what it holds would be
a code-execution path, so values are JSON (attrs objects go through the project's one converter).
Writing uses orjson for values that are plain JSON (exact dict, list, tuple, str, int, float, bool and
None, string keys, finite floats: checked first, because orjson would quietly write NaN as ``null``
and would accept datetimes, UUIDs and enums the standard library refuses) and the standard library
for anything else, which refuses what has no JSON form; both write the same JSON values. Reading
uses orjson, because every cache hit pays for parsing and orjson parses 3-5x faster.
The envelope ``{"v": 1, "d": value}`` makes a foreign writer's bytes, a truncated value or an older
format fail to decode: the manager treats that as a miss and overwrites it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

import attrs
import orjson

_loads: Callable[[bytes | str], Any] = orjson.loads

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
_LEAVES = frozenset((str, int, bool, type(None)))
_STR = frozenset((str,))
_FLOAT_MAX = 1.7976931348623157e308
_MAX_DEPTH = 32


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain finite JSON of the exact built-in types (see the module docstring).
    Leaves are tested inline (a cached answer is mostly floats and short strings)."""
    t = type(value)
    if t is float:
        return -_FLOAT_MAX <= value <= _FLOAT_MAX  # NaN fails both comparisons
    if t in _LEAVES:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if t is dict:
        if not _STR.issuperset(map(type, value)):  # every key exactly a str (no generator per dict)
            return False
        items: Any = value.values()
    elif t is list or t is tuple:
        items = value
    else:
        return False
    for v in items:
        tv = type(v)
        if tv is float:
            if not -_FLOAT_MAX <= v <= _FLOAT_MAX:
                return False
        elif tv not in _LEAVES and not _plain(v, depth + 1):
            return False
    return True


_UNSTRUCTURE: dict[type, Callable[[Any], Any]] = {}


def _unstructure(value: Any) -> Any:
    """The converter's unstructuring function for an attrs value's type, looked up once per type."""
    fn = _UNSTRUCTURE.get(type(value))
    if fn is None:
        from hotcrm_ai.converter import converter

        fn = converter.get_unstructure_hook(type(value))
        if len(_UNSTRUCTURE) < 256:
            _UNSTRUCTURE[type(value)] = fn
    return fn(value)


class Encoded(NamedTuple):
    """Envelope bytes made by :func:`encode_document` ahead of the cache write: ``encode`` hands
    them on unchanged (plain ``bytes`` are not a JSON value and are still refused)."""

    data: bytes


_new_tuple = tuple.__new__  # ``_new_tuple(Encoded, (data,))``: without the named tuple's Python-level __new__


def encode_document(document: dict[str, Any], unchecked: tuple[Any, ...]) -> Encoded | None:
    """``encode(document)`` for a document whose producer guarantees that every value is plain
    finite JSON (see ``_plain``) except those in ``unchecked``, which alone are walked: a prediction's
    cache record is written on every miss, and its ids, version, timestamp and checked confidence
    need no walk. None when an unchecked value is not plain: ``encode`` then decides as usual."""
    for value in unchecked:
        t = type(value)
        if t is float:  # a prediction's score: tested here, without a call
            if not -_FLOAT_MAX <= value <= _FLOAT_MAX:
                return None
        elif (t is not dict or value) and not _plain(value):  # no call for empty metadata either
            return None
    try:
        return _new_tuple(Encoded, (orjson.dumps({"v": FORMAT, "d": document}),))
    except orjson.JSONEncodeError:  # an int past 64 bits, a lone surrogate: left to ``encode``
        return None


def encode(value: Any) -> bytes:
    """JSON bytes of ``value`` (TypeError/ValueError if it has no finite JSON form)."""
    t = type(value)
    if t is Encoded:
        return value.data  # type: ignore[no-any-return]
    if t is not dict and (t in _UNSTRUCTURE or attrs.has(t)):  # a plain document needs no converter
        value = _unstructure(value)
    if _plain(value):
        try:
            return orjson.dumps({"v": FORMAT, "d": value})
        except orjson.JSONEncodeError:  # an int past 64 bits, a lone surrogate: the standard library decides
            pass
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
    hook = _HOOKS.get(type_)
    if hook is None:
        hook = _hook(type_)
    try:
        return hook(doc["d"], type_)
    except _STRUCTURE_ERRORS as exc:
        raise DecodeError(f"does not match {type_.__name__}: {exc}") from None


_ENVELOPE = frozenset((dict,))
_V, _D = itemgetter("v"), itemgetter("d")


def decode_all(raws: Sequence[bytes | None], type_: type | None = None) -> list[Any] | None:
    """``decode`` of every entry of a batch (None, a missing entry, stays None), checked column by
    column (a set of types, of lengths, of versions) instead of entry by entry; None as soon as any
    entry is not in the usual shape, and the caller then decodes each alone, which says which one
    and why. ``type_`` needs a bulk hook (``register_bulk_hook``); without one the answer is None."""
    present: Sequence[bytes] = raws  # type: ignore[assignment]  # when it holds no None
    if None in raws:
        present = [r for r in raws if r is not None]
        if not present:
            return [None] * len(raws)
    bulk = None
    if type_ is not None:
        bulk = _BULK_HOOKS.get(type_)
        if bulk is None:
            from hotcrm_ai import converter  # noqa: F401  (registers the bulk hooks)

            bulk = _BULK_HOOKS.get(type_)
            if bulk is None:
                return None
    values: list[Any] = []
    for start in range(0, len(present), _CHUNK):
        chunk = _decode_chunk(present[start : start + _CHUNK], bulk)
        if chunk is None:
            return None
        values += chunk
    if present is raws:
        return values
    found = iter(values)
    return [None if r is None else next(found) for r in raws]


# Entries parsed at a time. Each envelope and record is a dict the garbage collector counts: a whole
# batch of them alive at once set off about five more collections per 1,000 entries, while 32
# envelopes and 32 records fit the interpreter's free list of 80 dicts and are reused chunk after chunk.
_CHUNK = 32


def _decode_chunk(raws: Sequence[bytes], bulk: Callable[[list[Any]], list[Any] | None] | None) -> list[Any] | None:
    try:
        docs = list(map(_loads, raws))
        # each an object of exactly the two keys, "v" being FORMAT (``decode``'s test, all at once)
        if not _ENVELOPE.issuperset(map(type, docs)) or set(map(len, docs)) != {2} or set(map(_V, docs)) != {FORMAT}:
            return None
        values = list(map(_D, docs))
    except (ValueError, TypeError, KeyError):  # not JSON, an unhashable "v", no "d": decode says which
        return None
    del docs  # the envelopes go before the values are structured
    return values if bulk is None else bulk(values)


_BULK_HOOKS: dict[type, Callable[[list[Any]], list[Any] | None]] = {}


def register_bulk_hook(type_: type, hook: Callable[[list[Any]], list[Any] | None]) -> None:
    """``hook(values)`` structures a batch's decoded values as ``type_`` all at once, exactly as the
    converter's hook would each, or answers None when any is not in its usual shape."""
    _BULK_HOOKS[type_] = hook


_HOOKS: dict[type, Callable[[Any, type], Any]] = {}


def _hook(type_: type) -> Callable[[Any, type], Any]:
    """The converter's structuring function for ``type_``, looked up once (a cache hit structures
    one value; cattrs' dispatch and the error wrapping would cost as much as the parsing)."""
    from hotcrm_ai.converter import converter

    fn: Callable[[Any, type], Any] = converter.get_structure_hook(type_)
    if len(_HOOKS) < 256:
        _HOOKS[type_] = fn
    return fn


def _structure_errors() -> tuple[type[BaseException], ...]:
    import cattrs

    from hotcrm_ai.errors import ValidationError

    return (
        ValidationError,
        cattrs.BaseValidationError,
        cattrs.StructureHandlerNotFoundError,
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
    )


_STRUCTURE_ERRORS = _structure_errors()
