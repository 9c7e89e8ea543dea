"""The screen-sized summary ``hotcrm-ai models show`` prints by default (``--full``/``--json``: all)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotcrm_ai.types import FeatureSpec, ModelConfig

_MAX_CHOICES = 6  # choices shown per feature before "... (N in all)"
_METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1", "mae", "mse")
_EXTRA_METRICS = ("hit_rate_at_10", "mase")  # figures some model types keep in ``metrics.extra``
_BASELINES = (
    "base_rate",
    "majority_accuracy",
    "vader_only_accuracy",
    "pop_hit_rate_at_10",
    "seasonal_naive_mase",
    "naive_mase",
)


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _feature_line(f: FeatureSpec) -> str:
    kind = f.dtype + (f"[{f.items}]" if f.items else "")
    parts = [f"{f.name:<24} {kind:<12}{'' if f.required else ' optional'}"]
    if f.choices:
        shown = ", ".join(str(c) for c in f.choices[:_MAX_CHOICES])
        more = f", ... ({len(f.choices)} in all)" if len(f.choices) > _MAX_CHOICES else ""
        parts.append(f"one of: {shown}{more}")
    if f.minimum is not None or f.maximum is not None:
        lo = "" if f.minimum is None else _number(f.minimum)
        hi = "" if f.maximum is None else _number(f.maximum)
        parts.append(f"range {lo}..{hi}")
    if f.max_length is not None:
        parts.append(f"at most {f.max_length} characters")
    return "  ".join(parts).rstrip()


def summary(model: ModelConfig) -> str:
    """Id, name, type, provider, version, status, features, metrics next to their baselines, outputs."""
    lines = [
        f"{model.id}@{model.version}  {model.name}",
        f"type: {model.type}   provider: {model.provider}   status: {model.status}",
    ]
    if model.description:
        lines.append(model.description)
    if model.features:
        lines += ["", f"features ({len(model.features)}):"]
        lines += [f"  {_feature_line(f)}" for f in model.features]
    metrics = {k: getattr(model.metrics, k) for k in _METRICS if getattr(model.metrics, k, None) is not None}
    extra = model.metrics.extra
    metrics.update({k: extra[k] for k in _EXTRA_METRICS if isinstance(extra.get(k), int | float)})
    baselines = {k: extra[k] for k in _BASELINES if isinstance(extra.get(k), int | float)}
    if metrics or baselines:
        lines += ["", "metrics (held-out data):"]
        lines += [f"  {k:<24} {_number(v)}" for k, v in metrics.items()]
        lines += [f"  {k:<24} {_number(v)}  (baseline)" for k, v in baselines.items()]
    if model.output:
        props = model.output.get("properties")
        names = ", ".join(props) if isinstance(props, dict) else ", ".join(model.output)
        lines += ["", f"outputs: {names}"]
    lines += ["", "more: --full (every field) or --json"]
    return "\n".join(lines)
