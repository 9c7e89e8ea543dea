"""The REST binary tensor extension (Triton's ``binary_tensor_data``, used by ``tritonclient.http``):
a JSON header of ``Inference-Header-Content-Length`` bytes, then each binary tensor's raw bytes in
order, sized by its ``parameters.binary_data_size``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai_server.datatypes import from_raw, to_raw
from hotcrm_ai_server.tensors import (
    DATATYPE_SET,
    Tensor,
    check_tensor,
    dims_ok,
    element_count,
    field_error,
    flatten,
)

HEADER = "inference-header-content-length"


def split_body(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """The JSON request and the binary tail (empty without the extension)."""
    if header_length is None:
        head, tail = body, b""
    else:
        try:
            size = int(header_length)
        except ValueError:
            raise ValidationError("an integer byte count", subject="Inference-Header-Content-Length") from None
        if not 0 <= size <= len(body):
            raise ValidationError(f"0-{len(body)} (the body size)", subject="Inference-Header-Content-Length")
        head, tail = body[:size], body[size:]
    try:
        doc = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"a JSON inference request ({exc.__class__.__name__})", subject="body") from None
    if not isinstance(doc, dict):
        raise ValidationError("a JSON object", subject="body")
    return doc, tail


def decode_inputs(doc: dict[str, Any], tail: bytes) -> list[Tensor]:
    """Input tensors from a JSON request, reading binary ones from ``tail`` in order."""
    inputs = doc.get("inputs")
    if not isinstance(inputs, list):
        raise ValidationError([FieldError("inputs", "a list of tensors", type(inputs).__name__)], subject="request")
    errors: list[FieldError] = []
    tensors = []
    offset = 0
    for i, t in enumerate(inputs):
        if not isinstance(t, dict):
            errors.append(FieldError(f"inputs[{i}]", "a tensor object", type(t).__name__))
            continue
        name: Any = t.get("name")
        datatype: Any = t.get("datatype")
        shape: Any = t.get("shape")
        params = t.get("parameters") or {}
        if not (
            type(name) is str
            and name
            and type(datatype) is str
            and datatype in DATATYPE_SET
            and dims_ok(shape)
            and type(params) is dict
        ):
            bad = check_tensor(name, datatype, shape, f"inputs[{i}]")
            if not isinstance(params, dict):
                bad.append(FieldError(f"inputs[{i}].parameters", "an object", type(params).__name__))
            errors.extend(bad)
            continue
        count = element_count(shape)
        size = params.get("binary_data_size") if params else None
        try:
            if size is not None:
                if isinstance(size, bool) or not isinstance(size, int) or size < 0 or offset + size > len(tail):
                    raise ValueError(
                        f"inputs[{i}].parameters.binary_data_size: expected at most the "
                        f"{len(tail) - offset} binary bytes left, got {size!r}"
                    )
                data = from_raw(datatype, tail[offset : offset + size], count, f"inputs.{name}")
                offset += size
            else:
                if "data" not in t:
                    raise ValueError(f"inputs.{name}.data: expected the tensor's data (or binary_data_size)")
                data = flatten(t["data"])
                if len(data) != count:
                    raise ValueError(
                        f"inputs.{name}.data: expected {count} elements for shape {shape}, got {len(data)}"
                    )
        except ValueError as exc:
            errors.append(field_error(exc))
            continue
        tensors.append(Tensor(name=name, datatype=datatype, shape=tuple(shape), data=data, parameters=params))
    if offset != len(tail) and not errors:
        errors.append(FieldError("body", f"{offset} binary bytes as the inputs declare", f"{len(tail)}"))
    if errors:
        raise ValidationError(errors, subject="request")
    return tensors


def encode_outputs(outputs: Sequence[Tensor], binary: Sequence[bool]) -> tuple[list[dict[str, Any]], bytes]:
    """JSON output entries and the binary tail for those marked binary."""
    entries, chunks = [], []
    for t, as_binary in zip(outputs, binary, strict=True):
        entry: dict[str, Any] = {"name": t.name, "datatype": t.datatype, "shape": list(t.shape)}
        if as_binary:
            raw = to_raw(t.datatype, t.data)
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            entry["data"] = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in t.data]
        entries.append(entry)
    return entries, b"".join(chunks)
