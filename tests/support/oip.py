"""Building OIP V2 input tensors from feature rows with tritonclient's own classes, and reading a
tritonclient result back into prediction objects, for comparison with in-process answers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hotcrm_ai.types import ModelConfig


def column(model: ModelConfig, name: str, rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, str]:
    spec = model.feature(name)
    assert spec is not None, name
    values = [row[name] for row in rows]
    if spec.dtype == "string":
        return np.array([v.encode() for v in values], dtype=np.object_), "BYTES"
    if spec.dtype == "integer":
        return np.array(values, dtype=np.int64), "INT64"
    if spec.dtype == "number":
        return np.array(values, dtype=np.float64), "FP64"
    if spec.dtype == "boolean":
        return np.array(values, dtype=bool), "BOOL"
    if spec.dtype == "array" and spec.items in ("number", "integer"):
        return np.array(values, dtype=np.float64), "FP64"
    return np.array([json.dumps(v).encode() for v in values], dtype=np.object_), "BYTES"


def make_inputs(
    client_module: Any, model: ModelConfig, rows: Sequence[Mapping[str, Any]], *, binary: bool = True
) -> list[Any]:
    """One ``InferInput`` per feature present in the rows (``client_module``: tritonclient.http or .grpc)."""
    inputs = []
    for name in rows[0]:
        data, datatype = column(model, name, rows)
        inp = client_module.InferInput(name, list(data.shape), datatype)
        if binary:
            inp.set_data_from_numpy(data)
        else:
            inp.set_data_from_numpy(data, binary_data=False)
        inputs.append(inp)
    return inputs


def _value(v: Any) -> Any:
    if isinstance(v, (bytes, str)):
        text = v.decode() if isinstance(v, bytes) else v
        if text[:1] in ("[", "{"):
            return json.loads(text)
        return text
    if isinstance(v, np.generic):
        return v.item()
    return v


def predictions(result: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of {output name: value} from a tritonclient InferResult."""
    columns = {n: result.as_numpy(n) for n in names}
    n_rows = len(next(iter(columns.values())))
    return [{n: _value(columns[n][i]) for n in names} for i in range(n_rows)]
