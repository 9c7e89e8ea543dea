"""Cache keys: who asked (tenant), which model answered (id + version), and a hash of what was asked.

Format (``KEY_VERSION`` 2)::

    {namespace}:v2:{tenant}:{model_id}:{model_version}:{HMAC-SHA-256 of canonical JSON features}

Why this shape:

* Raw feature values never appear in a key (they may be personal data and keys show up in ``SCAN``,
  ``MONITOR`` and slow logs): only a keyed hash (HMAC-SHA-256) of their canonical JSON does. Keyed
  with a per-deployment secret, so someone who can list keys cannot confirm a guessed input (a
  customer's text, a lead's details) by hashing it themselves, as a plain SHA-256 would allow.
* Canonical JSON = ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
  allow_nan=False)``, so ``{a, b}`` and ``{b, a}`` share an entry (a deliberate deviation from the
  original, which used insertion order). NaN and infinity are rejected: they have no JSON form, and the
  original silently turned them into ``null`` (so NaN and ``None`` shared an entry).
* Every component is made key-safe by :func:`safe_component`, an *injective* encoding: characters
  outside ``[A-Za-z0-9._-]`` are percent-encoded (``a:b`` becomes ``a%3Ab``), so a tenant can never
  forge the separator and read another tenant's entry. The tenant ``None`` is the fixed ``_``; a
  tenant literally named ``_`` is written ``%5F``. A component longer than 64 characters once encoded
  becomes ``~`` + 40 hex digits of its SHA-256 (``~`` is always escaped, so no plain value collides).
* The version lets a format change start from an empty cache instead of misreading old entries
  (``v1`` keys, unkeyed SHA-256, are simply never read again).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from hotcrm_ai.errors import FieldError, ValidationError

KEY_VERSION = "v2"
NO_TENANT = "_"
MAX_COMPONENT = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Built once: ``json.dumps`` with non-default options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_PLAIN = (str, int, bool, type(None))
_FLOAT_MAX = 1.7976931348623157e308


def _escape(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8"))


@functools.lru_cache(maxsize=4096)  # tenants, model ids and versions repeat on every call
def safe_component(value: str) -> str:
    """Injective, key-safe form of one key component (see the module docstring)."""
    if value == NO_TENANT:
        return "%5F"
    encoded = _UNSAFE.sub(_escape, value)
    if len(encoded) > MAX_COMPONENT:
        return "~" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]
    return encoded


_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))
_DICT = frozenset((dict,))


def _flat_and_plain(features: Any) -> bool:
    """A flat dict of plain values (no subclasses): what orjson encodes exactly as the standard library
    would be asked to, apart from NaN and infinity, which it writes as ``null`` (checked after)."""
    return type(features) is dict and _PLAIN_TYPES.issuperset(map(type, features.values()))


def _flat_and_finite(features: Any) -> bool:
    """A flat object of string keys and plain values with finite floats (the slower, exact test, for
    the rows whose orjson text holds a ``null``: a None value, or a NaN that orjson wrote as null)."""
    if type(features) is not dict:
        return False
    for k, v in features.items():
        if type(k) is not str:
            return False
        if type(v) is float:
            if not -_FLOAT_MAX <= v <= _FLOAT_MAX:  # NaN fails both comparisons
                return False
        elif not isinstance(v, _PLAIN):
            return False
    return True


def canonical_bytes(features: Any, *, field: str = "features") -> bytes:
    """The canonical JSON of ``features`` as UTF-8 bytes (what the cache key hashes); ``ValidationError``
    naming ``field`` if it has none.

    A flat row of plain values (the common CRM record) is encoded by orjson, about 25 times faster
    than the standard library for 20 floats; anything else (nested values, NaN, integers past 64 bits,
    lone surrogates, subclasses of the plain types) by the standard library, which refuses what has
    no JSON form. orjson refuses non-string keys and writes NaN and infinity as ``null``, so its text
    is kept only when it has no ``null`` or the exact per-value test passes. Which path a request
    takes depends only on the request, and orjson is a dependency of hotcrm-ai, so every process
    sharing a Redis writes the same bytes for the same features."""
    if _flat_and_plain(features):
        try:
            out: bytes = orjson.dumps(features, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):  # a non-string key, an int past 64 bits, a lone surrogate
            pass
        else:
            if b"null" not in out or _flat_and_finite(features):
                return out
    try:
        return _CANONICAL.encode(features).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") has no UTF-8 form
        raise ValidationError(
            [FieldError(field, "valid Unicode text (no lone surrogates)", str(exc)[:80])], subject="cache key"
        ) from None
    except ValueError as exc:  # NaN / infinity, circular reference
        raise ValidationError(
            [FieldError(field, "finite JSON values (no NaN or infinity)", str(exc))], subject="cache key"
        ) from None
    except TypeError as exc:  # a set, a datetime, mixed-type dict keys...
        raise ValidationError(
            [FieldError(field, "JSON-serialisable values with string keys", str(exc))], subject="cache key"
        ) from None
    except RecursionError:  # nested deeper than the interpreter's stack; validation names the field
        raise ValidationError(
            [FieldError(field, "JSON nested a few levels deep at most", "deeper nesting")], subject="cache key"
        ) from None


def canonical_or_none(features: Any) -> bytes | None:
    """:func:`canonical_bytes` of a request's features, or None when they have no canonical form (not
    a mapping, NaN, a set...): such a request gets no cache key, and validation says what is wrong."""
    if type(features) is dict:
        if _PLAIN_TYPES.issuperset(map(type, features.values())):  # canonical_bytes' first path, inline
            try:
                out: bytes = orjson.dumps(features, option=orjson.OPT_SORT_KEYS)
            except (TypeError, orjson.JSONEncodeError):
                pass
            else:
                if b"null" not in out or _flat_and_finite(features):
                    return out
    elif not isinstance(features, Mapping):
        return None
    try:
        return canonical_bytes(features)
    except ValidationError:
        return None


def canonical_many(rows: Sequence[Any]) -> list[bytes | None]:
    """:func:`canonical_or_none` of each row. A batch of flat rows of plain values (the usual CRM
    export) has its value types tested once for all rows instead of once per row and is encoded by
    one orjson call for the whole list, whose text is cut into the rows' own (``[{row},{row}]``: a
    flat row holds a ``{`` only where it starts, unless a string holds one, and then the count of
    ``{`` tells and each row is encoded alone); any other batch goes row by row. Every row gets
    exactly what :func:`canonical_bytes` gives it alone."""
    n = len(rows)
    if (
        not n
        or not _DICT.issuperset(map(type, rows))
        or not set(map(type, itertools.chain.from_iterable(map(dict.values, rows)))) <= _PLAIN_TYPES
    ):
        return list(map(canonical_or_none, rows))
    try:
        data: bytes = orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # a row canonical_bytes leaves to the standard library
        return list(map(canonical_or_none, rows))
    pieces = (data[1:-1] + b",").split(b"{")  # "", then each row's text after its "{", up to its ","
    if len(pieces) != n + 1:  # a string holds a "{"
        return list(map(canonical_or_none, rows))
    out: list[bytes | None] = list(map(_OPEN, map(_BUT_LAST, itertools.islice(pieces, 1, None))))
    if b"null" in data:  # a None, or a NaN / infinity orjson wrote as null: the exact test for those rows
        for i, text in enumerate(out):
            if text is not None and b"null" in text and not _flat_and_finite(rows[i]):
                out[i] = canonical_or_none(rows[i])
    return out


_OPEN = b"{".__add__
_BUT_LAST = operator.itemgetter(slice(None, -1))


def canonical_json(features: Any, *, field: str = "features") -> str:
    """The canonical JSON text of ``features`` (:func:`canonical_bytes` decoded)."""
    return canonical_bytes(features, field=field).decode("utf-8")


class KeyedHash:
    """HMAC-SHA-256 under one secret, with the key schedule done once.

    HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) (RFC 2104): the two SHA-256 states after
    absorbing the padded key are computed here, and each digest copies them, so a call costs two
    state copies and the hashing of ``m``. ``hmac.new`` redoes the key schedule (and OpenSSL's
    digest lookup) on every call, about twice the cost. The output is byte for byte HMAC-SHA-256."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        if len(secret) > 64:  # SHA-256's block size: longer keys are hashed first
            secret = hashlib.sha256(secret).digest()
        padded = secret.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def hexdigest(self, data: bytes) -> str:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def hexdigests(self, items: Sequence[bytes | None]) -> list[str | None]:
        """``hexdigest`` of each item (None for None), the two states' methods looked up once."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out: list[str | None] = []
        append = out.append
        for data in items:
            if data is None:
                append(None)
                continue
            inner = inner_copy()
            inner.update(data)
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.hexdigest())
        return out


def features_digest(features: Mapping[str, Any], *, secret: bytes) -> str:
    """Keyed digest (HMAC-SHA-256 under ``secret``) of the canonical JSON of ``features``."""
    if not isinstance(features, Mapping):
        raise ValidationError(
            [FieldError("features", "a JSON object (mapping)", type(features).__name__)], subject="cache key"
        )
    return KeyedHash(secret).hexdigest(canonical_bytes(features))


def text_digest(text: str, *, secret: bytes) -> str:
    """HMAC-SHA-256 hex digest of canonical JSON text under ``secret`` (``ValidationError`` for a lone
    surrogate)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") has no UTF-8 form
        raise ValidationError(
            [FieldError("features", "valid Unicode text (no lone surrogates)", str(exc)[:80])], subject="cache key"
        ) from None
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


def _required(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError([FieldError(name, "a non-empty string", repr(value)[:80])], subject="cache key")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate would escape as UnicodeEncodeError in safe_component
            raise ValidationError(
                [FieldError(name, "valid Unicode text (no lone surrogates)", repr(value)[:80])], subject="cache key"
            ) from None
    return value


_COMPONENT = r"[A-Za-z0-9._%~-]+"
_KEY_SHAPE = re.compile(rf"v[0-9]+:{_COMPONENT}:{_COMPONENT}:{_COMPONENT}:[0-9a-f]{{64}}")


def is_cache_key(key: str, namespace: str, tenant: str | None = None) -> bool:
    """Whether ``key`` has exactly our shape under ``namespace`` (any format version), and belongs to
    ``tenant`` when one is given. ``clear`` deletes only such keys: a key of another deployment whose
    prefix merely starts like ours (``app:x:`` beside ``app:`` + ``x``) has another shape."""
    head = namespace + ":"
    if not key.startswith(head) or _KEY_SHAPE.fullmatch(key, len(head)) is None:
        return False
    return tenant is None or key.split(":", 3)[2] == tenant_component(tenant)


def check_namespace(namespace: Any) -> str:
    """A namespace must already be key-safe: it is also the prefix that ``clear()`` deletes."""
    _required("namespace", namespace)
    if _UNSAFE.search(namespace) or len(namespace) > MAX_COMPONENT:
        raise ValidationError(
            [FieldError("namespace", f"1-{MAX_COMPONENT} letters, digits, '.', '_' or '-'", repr(namespace)[:80])],
            subject="cache key",
        )
    return namespace


_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def tenant_component(tenant: str | None) -> str:
    if tenant is None:
        return NO_TENANT
    if type(tenant) is str and tenant != NO_TENANT and _SAFE.fullmatch(tenant):
        return tenant  # already key-safe (what safe_component gives it): a new tenant skips its cache
    return safe_component(_required("tenant", tenant))


def key_tail(
    tenant: str | None, model_id: str, model_version: str, features: Mapping[str, Any], *, secret: bytes
) -> str:
    """Everything after ``{namespace}:`` (the manager prepends its checked namespace once)."""
    return canonical_key_tail(tenant, model_id, model_version, features_digest(features, secret=secret))


def canonical_key_tail(tenant: str | None, model_id: str, model_version: str, digest: str) -> str:
    """``key_tail`` for features already encoded and hashed (``text_digest(canonical_json(...))``),
    so a request encodes its features once for its A/B subject and its cache key."""
    return ":".join(
        (
            KEY_VERSION,
            tenant_component(tenant),
            safe_component(_required("model_id", model_id)),
            safe_component(_required("model_version", model_version)),
            digest,
        )
    )


def cache_key(
    namespace: str,
    tenant: str | None,
    model_id: str,
    model_version: str,
    features: Mapping[str, Any],
    *,
    secret: bytes,
) -> str:
    """The cache key of one prediction request (format in the module docstring)."""
    return check_namespace(namespace) + ":" + key_tail(tenant, model_id, model_version, features, secret=secret)
