"""The ``custom`` provider: in-process models (the five CRM models, or your own).

A model names its runner in ``ModelConfig.parameters``:

- ``{"runner": "lead_scoring", "artifact": "lead_scoring.json"}``: a built-in runner
  (``lead_scoring``, ``churn``, ``sentiment``, ``forecast``, ``recommendation``) reading its artifact
  from the shipped artifact folder, or from ``parameters['artifact_dir']`` / the provider config's
  ``config['artifact_dir']`` when given;
- ``{"runner": "my_runner", ...}``: your own class, published by an installed package under that name
  in the ``hotcrm_ai.runners`` entry-point group, built as ``MyRunner(artifact_dir, parameters)``; it
  implements ``predict_batch(rows) -> list[PredictionOutput]`` (one vectorised call) and
  ``describe() -> dict``, optionally ``linear_model() -> LinearModel``.

Each runner declares its parameters as a frozen attrs class, its ``Options`` (the built-ins' are in
``runners.options``). The provider picks the class by ``runner`` (``runner_options_class``, the
spec's ``model_options_for``), so every ``[[models]]`` entry it serves is checked when ``AICloud``
starts under the one options policy (unknown runner or key: the closest valid name; wrong type: the
key and the type), and the runner is built on the structured options. A runner declaring no
``Options`` is checked on the shared keys (``runner``, ``artifact``, ``artifact_dir``) and gets its
parameters as given.

A configuration or registry file is data: it picks a runner by name among those installed, never a
module path, and its ``artifact`` must stay inside the artifact folder.

Runners are built lazily, once per provider instance and (options, folder), and cached.
``predict`` is a batch of one: both go through the same ``predict_batch`` path.

Validation happens once. A runner with ``check_schema(model)`` (lead scoring, churn) compares its
artifact's input fields with the model's ``features`` when it loads and raises a typed error naming
each mismatch. Rows the prediction service hands over (``PredictionInput.validated``, set after the
core validated them against those features) then go to ``predict_batch(rows, checked=True)``: no
second check per field. A direct call (``validated`` left False) is checked by the runner as before,
so calling the provider without ``AICloud`` stays safe.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ConfigError, FieldError, ProviderModelError, ProviderRequestError, ValidationError
from hotcrm_ai.options import (
    SHARED_MODEL_PARAMETERS,
    at_least,
    check_keys,
    non_empty,
    option_names,
    own_options,
    parse_model_options,
    parse_options,
    suggestion,
    unknown_name,
)
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai_plugins.runners.options import RunnerOptions

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Attribution, LinearModel
    from hotcrm_ai.scoring.output import ColumnOutput


@attrs.frozen
class CustomOptions:
    """``[providers.custom] config``: ``artifact_dir`` (the folder of trained artifacts; default the
    shipped one) and ``max_concurrency`` (unused by vectorised runners, accepted for symmetry)."""

    artifact_dir: str | None = attrs.field(default=None, validator=non_empty)
    max_concurrency: int | None = attrs.field(default=None, validator=at_least(1))


def _plain(value: Any) -> Any:
    """numpy scalars as the Python values a runner expects."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (list, dict, str)) else value


class CustomProvider(BaseMLProvider):
    name: ClassVar[str] = "custom"
    native_batch: ClassVar[bool] = True
    options: CustomOptions

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.options = parse_options(CustomOptions, config.config, section=f"providers.{config.provider}.config")
        self._runners: dict[tuple[Any, str, str], Any] = {}
        # model key -> (its parameters and features when checked, its runner, whether the core's
        # validation covers the runner's checks); a changed model (a new object) is checked again
        self._models: dict[str, tuple[Any, Any, Any, bool]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ runners
    def _artifact_dir(self, options: Any) -> Path:
        from hotcrm_ai_plugins.runners import default_artifact_dir

        where = (options.artifact_dir if options is not None else None) or self.options.artifact_dir
        return Path(where) if where else default_artifact_dir()

    def runner(self, model: ModelConfig) -> Any:
        """The model's runner, built on first use and cached on this provider instance."""
        return self._runner(model)[0]

    def _runner(self, model: ModelConfig) -> tuple[Any, bool]:
        """The runner, and whether the core's validation against ``model.features`` covers its checks
        (its ``check_schema`` passed for this model: done once per model, at load)."""
        known = self._models.get(model.key)  # the hot path: two identity checks once built
        if known is not None and known[0] is model.parameters and known[1] is model.features:
            return known[2], known[3]
        with self._lock:
            options, declared = model_runner_options(model)
            where = options.artifact_dir or self.options.artifact_dir
            # every option is part of the key: two models differing only in `method` get two runners
            own = "" if declared else json.dumps(dict(model.parameters), sort_keys=True, default=repr)
            key = (options, str(where or ""), own)
            runner = self._runners.get(key)
            if runner is None:
                runner = self._build(options, declared, model)
                self._runners[key] = runner
            check = getattr(runner, "check_schema", None)
            ok = check is not None and bool(model.features)
            if check is not None and ok:
                check(model)  # ArtifactSchemaError naming each mismatched field
            self._models[model.key] = (model.parameters, model.features, runner, ok)
        return runner, ok

    def _build(self, options: Any, declared: bool, model: ModelConfig) -> Any:
        """The runner class, loaded by name, built on the structured options when it declares them
        (else on the parameters as given)."""
        from hotcrm_ai_plugins.runners import installed_runners

        name = options.runner
        folder = self._artifact_dir(options)
        _check_artifact(model, options.artifact, folder)
        try:
            cls = installed_runners()[name].load()
        except (ImportError, AttributeError) as exc:
            raise ProviderRequestError(
                f"model {model.id}: cannot import runner {name!r}: {exc}", provider=self.name
            ) from exc
        try:
            return cls(folder, options if declared else dict(model.parameters))
        except FileNotFoundError as exc:
            raise ProviderModelError(
                f"model {model.id}: artifact missing: {Path(exc.filename or '').name or exc}",
                provider=self.name,
                retryable=False,
            ) from exc
        except (ValueError, KeyError, TypeError, OSError) as exc:  # a corrupt artifact
            raise ProviderModelError(
                f"model {model.id}: cannot build runner {name!r}: {type(exc).__name__}: {str(exc)[:200]}",
                provider=self.name,
                retryable=False,
            ) from exc

    # ------------------------------------------------------------------ contract
    def validate(self) -> bool:
        """True when the shipped artifacts are all present (or the configured folder exists)."""
        from hotcrm_ai_plugins.models import read_json

        folder = self._artifact_dir(None)
        registry = read_json("registry.json", folder)
        return bool(registry) and all((folder / e["artifact"]).exists() for e in registry.values())

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self.batch_predict(model, [inp])[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        if not inputs:
            return []
        bad = [
            FieldError(f"inputs[{i}]", "a PredictionInput", type(x).__name__)
            for i, x in enumerate(inputs)
            if not isinstance(x, PredictionInput)
        ]
        if bad:
            raise ValidationError(bad)
        runner, trusted = self._runner(model)
        rows = [inp.features for inp in inputs]
        if trusted and all(inp.validated for inp in inputs):
            outputs = runner.predict_batch(rows, checked=True)  # the core validated them against the schema
        else:
            outputs = runner.predict_batch(rows)
        if len(outputs) != len(inputs):
            raise ProviderModelError(
                f"model {model.id}: runner returned {len(outputs)} outputs for {len(inputs)} inputs", provider=self.name
            )
        return list(outputs)

    def predict_columns(self, model: ModelConfig, columns: Mapping[str, Any]) -> ColumnOutput:
        """Column-wise answers: the runner's own ``predict_columns`` (lead, churn, sentiment), else its
        ``predict_batch`` on rows (forecast, recommendation fit per row anyway). Rows the runner
        refuses get their own error, as ``predict`` would give it.

        Columns the core validated for this model (``ValidatedColumns``) skip the runner's checks when
        its ``check_schema`` accepted the model, as validated rows do (such a runner takes
        ``checked=True`` in ``predict_columns`` as in ``predict_batch``); other columns are checked."""
        from hotcrm_ai.scoring.output import from_outputs
        from hotcrm_ai.scoring.validate import validated_for

        n = len(next(iter(columns.values()))) if columns else 0
        runner, trusted = self._runner(model)
        validated = validated_for(columns, model)
        if hasattr(runner, "predict_columns"):
            try:
                if trusted and validated:
                    return runner.predict_columns(columns, n, checked=True)  # type: ignore[no-any-return]
                return runner.predict_columns(columns, n)  # type: ignore[no-any-return]
            except ValidationError:
                pass  # some rows are bad: find which, row by row
        rows = [{k: _plain(col[i]) for k, col in columns.items() if col[i] is not None} for i in range(n)]
        try:
            return from_outputs(
                self.batch_predict(model, [PredictionInput(features=r, validated=validated) for r in rows])
            )
        except ValidationError:
            pass
        outputs: list[PredictionOutput | None] = []
        errors: dict[int, BaseException] = {}
        for i, r in enumerate(rows):
            try:
                outputs.append(self.batch_predict(model, [PredictionInput(features=r)])[0])
            except ValidationError as exc:
                outputs.append(None)
                errors[i] = exc
        return from_outputs(outputs, errors)

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        """Load every shipped artifact (cached afterwards) and report what was loaded."""
        from hotcrm_ai_plugins.models import default_models

        started = time.perf_counter()
        details: dict[str, Any] = {}
        try:
            models = default_models(self._artifact_dir(None))
            for model in models:
                details[model.id] = self.runner(model).describe()
        except Exception as exc:  # health checks never raise
            return HealthReport(
                healthy=False,
                latency_ms=(time.perf_counter() - started) * 1000,
                error=f"{type(exc).__name__}: {exc}",
                details=details,
            )
        healthy = bool(models)
        return HealthReport(
            healthy=healthy,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=None if healthy else "no trained artifacts found",
            details=details,
        )

    def linear_model(self, model: ModelConfig) -> LinearModel | None:
        from hotcrm_ai_plugins.runners import linear_model_of

        return linear_model_of(self.runner(model))

    def attribution(self, model: ModelConfig, features: Mapping[str, Any]) -> Attribution | None:
        """The runner's own additive account (forecast, recommendation), when it has one."""
        method = getattr(self.runner(model), "attribution", None)
        return method(features) if callable(method) else None


def _check_artifact(model: ModelConfig, artifact: str, folder: Path) -> None:
    """``parameters.artifact`` resolves inside the artifact folder (its options refused an absolute
    path or ``..``; this also catches a link leading out)."""
    if not artifact:  # a runner with no artifact file (it fits on the history given)
        return
    root = folder.resolve()
    if not (root / artifact).resolve().is_relative_to(root):
        raise ConfigError(
            f"model {model.id}: parameters.artifact: expected a path inside the artifact folder, got {artifact!r:.200}"
        )


def model_runner_options(model: ModelConfig) -> tuple[Any, bool]:
    """``model.parameters`` structured into its runner's declared options, and whether the runner
    declares them (one that does not is checked on the shared keys only, and gets its parameters
    as given)."""
    cls = runner_options_class(model)
    if cls is not None:
        return parse_model_options(cls, model), True
    return _shared_options(model), False


def _shared_options(model: ModelConfig) -> RunnerOptions:
    """The keys every runner shares, structured (a runner that declares no options of its own)."""
    shared = {k: v for k, v in model.parameters.items() if k not in SHARED_MODEL_PARAMETERS}
    return parse_options(RunnerOptions, own_options(RunnerOptions, shared), section=_section(model))


def runner_options_class(model: ModelConfig) -> type | None:
    """The options class of the runner ``model`` names (``ProviderSpec.model_options_for``): a
    built-in's without importing it, an installed package's ``Options`` (None when it declares none).
    An unknown or missing runner is a ``ConfigError`` naming the closest installed one."""
    from hotcrm_ai_plugins.runners import RUNNER_GROUP, installed_runners
    from hotcrm_ai_plugins.runners.options import BUILTIN_OPTIONS

    name = model.parameters.get("runner")
    builtin = BUILTIN_OPTIONS.get(name) if isinstance(name, str) else None
    if builtin is not None:
        return builtin
    where = f"[models.{model.id}] parameters.runner"
    if name is None:
        typo = [k for k in model.parameters if k != "runner" and suggestion(k, ["runner"])]
        if typo:  # `runnr = "churn"`: name the key, not a missing runner
            check_keys(_section(model), typo, option_names(RunnerOptions))
    runners = installed_runners()
    if not isinstance(name, str) or not name:
        got = "nothing (missing)" if name is None else type(name).__name__
        raise ConfigError(
            f"{where}: expected the name of an installed runner ({', '.join(sorted(runners))}), got {got}"
        )
    target = runners.get(name)
    if target is None:
        error = unknown_name(where, name, runners)
        raise ConfigError(f"{error} (a package adds one under the {RUNNER_GROUP!r} entry-point group)")
    try:
        cls = target.load()
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}: cannot import runner {name!r}: {type(exc).__name__}: {exc}") from None
    declared = getattr(cls, "Options", None)
    if isinstance(declared, type) and attrs.has(declared):
        return declared
    _shared_options(model)  # the rest of its parameters are the runner's own business
    return None


def _section(model: ModelConfig) -> str:
    return f"models.{model.id}.parameters"


def provider_spec() -> ProviderSpec:
    return ProviderSpec(
        "custom",
        CustomProvider,
        "In-process models: the five CRM models, or your own runner",
        options=CustomOptions,
        model_options_for=runner_options_class,
    )
