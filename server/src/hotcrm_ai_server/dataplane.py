"""The protocol's operations, transport-free: REST and gRPC both decode into these calls and encode
what they return, so the two speak exactly the same semantics and errors (one request path, as
MLServer's ``DataPlane``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import FieldError, HotCRMAIError, ValidationError
from hotcrm_ai.types import ModelConfig, PredictionInput, PredictionResult
from hotcrm_ai_server.auth import Principal
from hotcrm_ai_server.datatypes import ACCEPTS
from hotcrm_ai_server.errors import BadRequest, Conflict, NotFound, ServerError, Unavailable, to_server_error
from hotcrm_ai_server.modelref import parse_model_ref
from hotcrm_ai_server.settings import ServerSettings
from hotcrm_ai_server.tensors import Tensor, output_metadata, results_to_outputs, tensors_to_rows

if TYPE_CHECKING:
    from hotcrm_ai.cloud import AICloud

log = logging.getLogger("hotcrm_ai_server")

SERVER_NAME = "hotcrm-ai"
EXTENSIONS = ("binary_tensor_data", "explain", "ask", "metrics")


@attrs.frozen
class InferRequest:
    inputs: tuple[Tensor, ...]
    id: str = ""
    parameters: dict[str, Any] = attrs.field(factory=dict)
    outputs: tuple[str, ...] | None = None  # requested output names; None: all


@attrs.frozen
class InferResponse:
    model_name: str
    model_version: str
    outputs: tuple[Tensor, ...]
    id: str = ""
    parameters: dict[str, Any] = attrs.field(factory=dict)


def _request_options(params: Mapping[str, Any]) -> tuple[Any, bool, bool]:
    errors = []
    subject = params.get("subject")
    if subject is not None and (isinstance(subject, bool) or not isinstance(subject, (str, int))):
        errors.append(FieldError("parameters.subject", "a string or an integer", repr(subject)[:40]))
    use_cache = params.get("use_cache", True)
    explain = params.get("explain", False)
    for name, value in (("use_cache", use_cache), ("explain", explain)):
        if not isinstance(value, bool):
            errors.append(FieldError(f"parameters.{name}", "a boolean", repr(value)[:40]))
    if errors:
        raise ValidationError(errors, subject="request")
    return subject, use_cache, explain


def _row_parameters(results: Sequence[PredictionResult], requested: ModelConfig) -> dict[str, Any]:
    """How the rows were served: one value when all rows agree, else a JSON array (one per row)."""
    columns: dict[str, list[Any]] = {
        "served_model": [r.model_id for r in results],
        "model_version": [r.model_version for r in results],
        "variant": [r.variant or "" for r in results],
        "cached": [r.cached for r in results],
        "degraded": [r.degraded for r in results],
        "degraded_reason": [r.degraded_reason or "" for r in results],
    }
    out: dict[str, Any] = {}
    for name, values in columns.items():
        if len(set(values)) == 1:
            value = values[0]
            if name == "served_model" and value == requested.id:
                continue
            if value == "" and name in ("variant", "degraded_reason"):
                continue
            out[name] = value
        else:
            out[name] = json.dumps(values)
    return out


class DataPlane:
    """Server metadata, health, model metadata and inference over one ``AICloud``."""

    def __init__(self, cloud: AICloud, settings: ServerSettings) -> None:
        self.cloud = cloud
        self.settings = settings
        self._outputs: dict[str, list[tuple[str, str]]] = {}
        self._ready = False
        self.draining = False

    # -- health ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Learn each model's output tensors from one prediction of its example row (straight from the
        provider: no cache entry, no monitor event), then report ready."""
        from hotcrm_ai.prediction.validation import validate_features

        for model in self.cloud.registry.list(status="active"):
            example = model.parameters.get("example")
            if not isinstance(example, Mapping):
                example = model.background[0] if model.background else None
            declared = model.output.get("fields")
            if isinstance(declared, Mapping):
                self._outputs[model.key] = [*((str(k), str(v)) for k, v in declared.items()), ("confidence", "FP64")]
                continue
            if example is None:
                continue
            try:
                clean = validate_features(model, example)
                out = self.cloud.provider_for(model).predict(model, PredictionInput(features=clean))
                self._outputs[model.key] = output_metadata(out.prediction)
            except Exception as exc:  # a remote provider down at start-up: metadata lists confidence only
                log.warning("could not learn the outputs of %s: %s", model.key, type(exc).__name__)
        self._ready = True

    @property
    def ready(self) -> bool:
        return self._ready and not self.draining

    def server_metadata(self) -> dict[str, Any]:
        from hotcrm_ai_server import __version__

        return {"name": SERVER_NAME, "version": __version__, "extensions": list(EXTENSIONS)}

    # -- models ----------------------------------------------------------------------------

    def resolve(self, principal: Principal, name: str, version: str | None) -> ModelConfig:
        ref = parse_model_ref(name, version)
        principal.check_model(ref.model_id)
        if ref.alias is not None:
            model = self.cloud.registry.get(f"{ref.model_id}@{ref.alias}")  # the version the alias names
            if ref.version is not None and ref.version != model.version:
                raise NotFound(f"Model not found: {name} version {ref.version} (the alias names {model.version})")
            return model
        return self.cloud.registry.get(ref.model_id, ref.version)

    @staticmethod
    def _target(name: str, model: ModelConfig) -> str:
        """What to ask the AICloud for: the alias reference itself (so it serves the alias's version),
        else the model id."""
        return name if "@" in name else model.id

    def _servable(self, model: ModelConfig, *, pinned: bool = False) -> None:
        """Whether ``model`` can be served now (``pinned``: named through an alias, which may point at
        an older version than the newest). Draining is not checked here: a request that got in before
        shutdown began is finished; the transports refuse the ones that come after."""
        if not self._ready:
            raise Unavailable("server is not ready")
        if model.status != "active":
            raise Conflict(f"Model is not active: {model.id} version {model.version} (status: {model.status})")
        served = self.cloud.registry.get(model.id)
        if not pinned and served.version != model.version:
            raise Conflict(
                f"Model {model.id} version {model.version} is registered but not served "
                f"(served version: {served.version})"
            )

    def model_ready(self, principal: Principal, name: str, version: str | None) -> bool:
        model = self.resolve(principal, name, version)
        try:
            self._servable(model, pinned="@" in name)
        except ServerError:
            return False
        return not self.draining

    def model_metadata(self, principal: Principal, name: str, version: str | None) -> dict[str, Any]:
        model = self.resolve(principal, name, version)
        inputs = []
        for f in model.features:
            numeric_array = f.dtype == "array" and f.items in ("number", "integer")
            inputs.append(
                {
                    "name": f.name,
                    "datatype": "FP64" if numeric_array else ACCEPTS[f.dtype][0],
                    "shape": [-1, -1] if numeric_array else [-1],
                    "parameters": {"dtype": f.dtype, "required": f.required},
                }
            )
        outputs = [{"name": n, "datatype": d, "shape": [-1]} for n, d in self._outputs.get(model.key, [])]
        if not outputs:
            outputs = [{"name": "confidence", "datatype": "FP64", "shape": [-1]}]
        return {
            "name": model.id,
            "versions": [m.version for m in self.cloud.registry.versions(model.id)],
            "platform": f"hotcrm-ai/{model.provider}",
            "inputs": inputs,
            "outputs": outputs,
        }

    # -- inference -------------------------------------------------------------------------

    def infer(self, principal: Principal, name: str, version: str | None, request: InferRequest) -> InferResponse:
        model = self.resolve(principal, name, version)
        self._servable(model, pinned="@" in name)
        subject, use_cache, explain = _request_options(request.parameters)
        rows = tensors_to_rows(model, request.inputs, max_rows=self.settings.max_rows)
        context: dict[str, Any] = {}
        if principal.tenant is not None:
            context["tenant"] = principal.tenant
        if subject is not None:
            context["subject"] = subject
        results = self._predict(self._target(name, model), rows, context, use_cache=use_cache, explain=explain)
        outputs = results_to_outputs(results, explain=explain)
        if request.outputs is not None:
            known = {t.name: t for t in outputs}
            missing = [n for n in request.outputs if n not in known]
            if missing:
                raise BadRequest(f"outputs: unknown {', '.join(missing)}; expected some of {', '.join(known)}")
            outputs = [known[n] for n in request.outputs]
        return InferResponse(
            model_name=model.id,
            model_version=model.version,
            outputs=tuple(outputs),
            id=request.id,
            parameters=_row_parameters(results, model),
        )

    def _predict(
        self, model_id: str, rows: list[dict[str, Any]], context: dict[str, Any], *, use_cache: bool, explain: bool
    ) -> list[PredictionResult]:
        outcomes: list[PredictionResult | BaseException] = []
        if len(rows) == 1 or explain:
            for row in rows:
                try:
                    outcomes.append(
                        self.cloud.predict(model_id, row, context=context, use_cache=use_cache, explain=explain)
                    )
                except HotCRMAIError as exc:
                    outcomes.append(exc)
        else:
            batch = self.cloud.batch_predict(model_id, rows, context=context, use_cache=use_cache)
            outcomes = [r.exception if r.exception is not None else r for r in batch]
        failed = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
        if failed:
            raise _row_errors(failed)
        return [o for o in outcomes if isinstance(o, PredictionResult)]

    def explain(self, principal: Principal, name: str, version: str | None, request: InferRequest) -> dict[str, Any]:
        """Per row: base value, each feature's contribution and the reason text (they add up to the
        explained output)."""
        model = self.resolve(principal, name, version)
        self._servable(model, pinned="@" in name)
        rows = tensors_to_rows(model, request.inputs, max_rows=min(self.settings.max_rows, 100))
        explanations = []
        for row in rows:
            e = self.cloud.explain(self._target(name, model), row)
            explanations.append(
                {
                    "base_value": e.base_value,
                    "output_value": e.output_value,
                    "output_kind": e.output_kind,
                    "method": e.method,
                    "exact": e.exact,
                    "contributions": [
                        {
                            "feature": c.feature,
                            "value": c.value,
                            "contribution": c.contribution,
                            "importance": c.importance,
                        }
                        for c in e.contributions
                    ],
                    "text": e.text,
                }
            )
        return {"model_name": model.id, "model_version": model.version, "id": request.id, "explanations": explanations}

    def ask(self, principal: Principal, question: Any, now: Any, limit: Any) -> Any:
        from hotcrm_ai.converter import unstructure

        errors = []
        if not isinstance(question, str) or not question.strip():
            errors.append(FieldError("question", "a non-empty string", repr(question)[:40]))
        if now is not None and not isinstance(now, str):
            errors.append(FieldError("now", "a date YYYY-MM-DD", repr(now)[:40]))
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            errors.append(FieldError("limit", "an integer 1-10000", repr(limit)[:40]))
        if errors:
            raise ValidationError(errors, subject="request")
        context = {"tenant": principal.tenant} if principal.tenant else None
        result = self.cloud.ask(question, now=now, limit=limit, context=context)
        return json.loads(json.dumps(unstructure(result), default=str))


def _row_errors(failed: list[tuple[int, BaseException]]) -> ServerError:
    """One error for a request whose rows failed: 400 naming every bad row and field when the input
    was at fault, else the first failure's status with every row's message."""
    parts = [f"rows[{i}]: {exc}" for i, exc in failed]
    invalid = [exc for _, exc in failed if isinstance(exc, ValidationError)]
    message = "; ".join(parts[:50]) + (f"; and {len(parts) - 50} more rows" if len(parts) > 50 else "")
    if len(invalid) == len(failed):
        return BadRequest(message)
    first = next(exc for _, exc in failed if not isinstance(exc, ValidationError))
    mapped = to_server_error(first)
    return type(mapped)(message, status=mapped.status, grpc_code=mapped.grpc_code)
