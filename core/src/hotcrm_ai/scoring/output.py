"""``ColumnOutput``: what a provider's ``predict_columns`` returns, one column per prediction field.

Kept free of pyarrow so providers (and ``batch_predict`` on dicts) use it without the ``score`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

Column = Sequence[Any]  # a numpy array or a list, one value per row


@attrs.frozen
class ColumnOutput:
    """Answers for ``n`` rows, column-wise.

    ``prediction`` maps each top-level field of the prediction to its column; a scalar prediction is
    one column under the key ``"prediction"`` with ``scalar=True``. ``metadata`` is shared by every
    row, ``notes`` adds per-row metadata (row index -> dict) for the few rows that have any, and
    ``errors`` holds the rows the model refused (row index -> exception); their values in the
    columns are placeholders and are never read.
    """

    prediction: Mapping[str, Column]
    confidence: Column
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    notes: Mapping[int, Mapping[str, Any]] = attrs.field(factory=dict)
    errors: Mapping[int, BaseException] = attrs.field(factory=dict)
    scalar: bool = False

    def row_prediction(self, fields: Mapping[str, list[Any]], i: int) -> Any:
        """Row ``i``'s prediction as ``predict`` returns it (``fields``: the columns as lists)."""
        if self.scalar:
            return fields["prediction"][i]
        return {k: col[i] for k, col in fields.items()}

    def row_metadata(self, i: int) -> dict[str, Any]:
        note = self.notes.get(i)
        return {**note, **self.metadata} if note else dict(self.metadata)


def from_outputs(outputs: Sequence[Any], errors: Mapping[int, BaseException] | None = None) -> ColumnOutput:
    """Row answers (``PredictionOutput``; None where ``errors`` has the row) turned into columns: the
    adapter for providers and runners that only answer row by row."""
    errors = dict(errors or {})
    good = [o for o in outputs if o is not None]
    scalar = not good or not all(isinstance(o.prediction, Mapping) for o in good)
    names: dict[str, None] = {}
    if not scalar:
        for o in good:
            names.update(dict.fromkeys(o.prediction))
    fields: dict[str, list[Any]] = {k: [] for k in (["prediction"] if scalar else names)}
    confidence: list[float] = []
    notes: dict[int, Mapping[str, Any]] = {}
    for i, o in enumerate(outputs):
        if o is None:
            for col in fields.values():
                col.append(None)
            confidence.append(0.0)
            continue
        if scalar:
            fields["prediction"].append(o.prediction)
        else:
            for k, col in fields.items():
                col.append(o.prediction.get(k))
        confidence.append(float(o.confidence))
        if o.metadata:
            notes[i] = o.metadata
    return ColumnOutput(prediction=fields, confidence=confidence, notes=notes, errors=errors, scalar=scalar)


class Categories(Sequence[Any]):
    """A column of few distinct values, kept as integer codes into ``values`` (-1: missing).

    Arrow's dictionary encoding without the Python objects: validation checks each distinct value
    once and a model looks each up once, then works on the codes with numpy. Reads as a list."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: Any, values: Sequence[Any]) -> None:
        import numpy as np

        self.codes = np.asarray(codes, dtype=np.int64)
        self.values = list(values)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return Categories(self.codes[i], self.values)
        code = int(self.codes[i])
        return None if code < 0 else self.values[code]

    def take(self, index: Any) -> Categories:
        return Categories(self.codes[index], self.values)

    def tolist(self) -> list[Any]:
        import numpy as np

        lookup = np.asarray([*self.values, None], dtype=object)
        return lookup[self.codes].tolist()  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return iter(self.tolist())

    def __repr__(self) -> str:
        return f"Categories({len(self)} rows, {len(self.values)} values)"
