"""What the things that plugins register must look like (structural protocols).

Providers subclass ``hotcrm_ai.BaseMLProvider`` (it carries shared behaviour); the rest only need the
methods below, checked by duck typing, so a plugin needs no base class from us.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    import numpy as np

    from hotcrm_ai.types import Explanation, ModelConfig, PredictionEvent


@runtime_checkable
class CacheBackend(Protocol):
    """Stores opaque bytes under string keys with a TTL. May raise anything: the manager absorbs it.

    Keys arrive fully formed (namespace, tenant, model, version, feature hash): a backend adds only
    its own prefix. ``clear`` removes only this cache's namespace, never a whole database.
    """

    name: str

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        """Store ``(key, value, ttl_seconds)`` triples; the TTL is set atomically with the value."""

    def delete(self, key: str) -> bool: ...

    def clear(self, tenant: str | None = None) -> int:
        """Remove our namespace (only keys of the exact shape ``hotcrm_ai.cache.keys.is_cache_key``
        accepts), or with ``tenant`` only that tenant's entries; return how many entries went."""

    def stats(self) -> dict[str, Any]:
        """Backend-side figures (size, evictions, ...); the manager adds hits and misses."""

    def ping(self) -> bool: ...

    def close(self) -> None: ...


@runtime_checkable
class MonitorSink(Protocol):
    """Receives every prediction event. Called in isolation: raising here never fails a prediction."""

    name: str

    def record(self, event: PredictionEvent) -> None: ...

    def close(self) -> None: ...


@attrs.frozen
class LinearModel:
    """What a linear (or generalised linear) model exposes so it can be explained in closed form.

    ``encode`` turns feature rows into the design matrix the coefficients apply to; ``groups[j]`` is
    the input field column ``j`` came from (one-hot columns share their field), so attributions are
    reported per input field. ``link`` says which space the linear predictor lives in.
    """

    coef: np.ndarray
    intercept: float
    mean: np.ndarray  # training means of the encoded columns: the expectation in phi = b (x - E[x])
    groups: tuple[str, ...]
    encode: Callable[[Sequence[Mapping[str, Any]]], np.ndarray]
    link: str = "logit"  # "logit": output = sigmoid(intercept + coef . x); "identity": output is linear
    output_kind: str = "log-odds"
    # optional fast path: rows -> (rows x term_fields) each field's share of coef . x, without building x
    terms: Callable[[Sequence[Mapping[str, Any]]], np.ndarray] | None = None
    term_fields: tuple[str, ...] = ()
    # optional fast path for one row the host has already validated: the same terms as a plain list,
    # computed without numpy (whose per-call overhead dominates a single row)
    row_terms: Callable[[Mapping[str, Any]], Sequence[float]] | None = None
    # optional columnar path: (columns by field, row count) -> the same (rows x term_fields) terms,
    # for a table that arrives column by column (numpy arrays, lists): no per-row dictionaries
    column_terms: Callable[[Mapping[str, Any], int], np.ndarray] | None = None


@attrs.frozen
class Attribution:
    """A model's own exact additive account of one output: ``output == base + sum(contributions)``.

    For models that are additive by construction (a forecast's level + trend + season, an item-item
    recommender's sum over the basket), so explaining them needs no sampling. Keys of
    ``contributions`` are the explained parts; ``values`` and ``labels`` say what each part is.
    """

    output: float
    base: float
    contributions: Mapping[str, float]
    values: Mapping[str, Any]
    labels: Mapping[str, str]
    output_kind: str = "value"
    explained: str = ""  # which number of the prediction ``output`` is, in words
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ExplanationTask:
    """One explanation to compute, independent of the provider: ``score`` is all an explainer calls.

    ``score(rows)`` returns the explained number for each feature row (one batch call per coalition
    set). ``background`` is the reference data; ``budget`` caps model evaluations (rows scored).
    """

    model: ModelConfig
    features: Mapping[str, Any]
    score: Callable[[Sequence[Mapping[str, Any]]], np.ndarray]
    background: Sequence[Mapping[str, Any]]
    output_kind: str
    budget: int = 100_000
    seed: int = 0
    linear: LinearModel | None = None
    attribution: Attribution | None = None


@runtime_checkable
class Explainer(Protocol):
    name: str

    def supports(self, task: ExplanationTask) -> bool:
        """Whether this method can explain the task (feature count, linear info present, ...)."""

    def explain(self, task: ExplanationTask) -> Explanation:
        """Attributions with ``base_value + sum(contributions) == output_value``; text may be empty."""


@runtime_checkable
class QueryTranslator(Protocol):
    """Turns a question into a structured query (the reporting AST); never into SQL text.

    ``translate`` returns a ``hotcrm_ai.reporting.ast.Query``, a ``Translated`` (a query plus the words
    it used and left unused, which feed the answer's confidence) or ``NotUnderstood`` (what was not
    understood and what can be asked). Whatever it returns is validated against the catalogue."""

    name: str

    def translate(self, question: str, *, catalogue: Any, now: Any, context: Mapping[str, Any]) -> Any: ...


@runtime_checkable
class Store(Protocol):
    """Where the registry, the prediction log and monitor events live, shared by every process that
    points at it. The built-in one is ``hotcrm_ai.store.sql.SQLStore`` (SQLite, PostgreSQL); see it
    for each method's contract. Methods raise ``StoreUnavailableError`` when the store cannot be
    reached and ``StoreError`` for anything else; ``RegistryConflictError`` from ``change``."""

    name: str
    url: str  # redacted: safe to print
    schema_version: str | None

    def open(self) -> str:
        """Connect and check (or create) the schema; returns its version."""

    def upgrade(self) -> str: ...

    def info(self) -> dict[str, Any]: ...

    def purge(self, older_than: float) -> dict[str, int]: ...

    def registry_token(self) -> int: ...

    def load_registry(self) -> Any: ...

    def upsert_models(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def change(
        self,
        model_id: str,
        expected_revision: int,
        *,
        actor: str,
        action: str,
        version: str,
        before: Any,
        after: Any,
        apply: Any,
    ) -> int: ...

    def history(self, model_id: str | None = None) -> list[dict[str, Any]]: ...

    def write_events(
        self,
        events: Sequence[Mapping[str, Any]],
        logged: Sequence[Mapping[str, Any]],
        drops: Mapping[str, int],
        process_id: str,
        features: Sequence[tuple[str, Any]] = (),
    ) -> None: ...

    def dropped(self, model_id: str | None = None) -> int: ...

    def prediction(self, prediction_id: str) -> Any: ...

    def model_ids(self, window_s: float | None, now: float) -> list[str]: ...

    def stats(
        self, model_id: str, *, variant: str | None, window_s: float | None, now: float, max_rows: int
    ) -> Any: ...

    def recent_errors(self, model_id: str, limit: int) -> list[dict[str, Any]]: ...

    def event(self, prediction_id: str) -> dict[str, Any] | None: ...

    def save_outcome(self, prediction_id: str, *, kind: str, actual: Any, correct: Any, abs_error: Any) -> None: ...

    def close(self) -> None: ...
