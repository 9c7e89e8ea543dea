"""The schema catalogue: which objects, fields, joins and metrics a question may touch.

It is data (``catalogue.json`` next to this module), extendable by a JSON file named in
``[reporting] catalogue`` that is deep-merged over the built-in one. Anything not in the catalogue
cannot be queried: the compiler only ever builds SQL from names it resolves here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError, FieldError, ValidationError

FIELD_TYPES = ("integer", "number", "currency", "string", "date", "datetime", "boolean", "percent")
NUMERIC_TYPES = ("integer", "number", "currency", "percent")
DATE_TYPES = ("date", "datetime")
METRIC_KINDS = ("sum", "avg", "count", "min", "max", "ratio", "avg_duration_hours", "avg_duration_days")


@attrs.frozen
class ResolvedField:
    """A field path resolved to a table column: ``join`` is None for the object's own columns."""

    path: str  # canonical: "amount" or "account.region"
    join: str | None
    object: str  # the object owning the column
    column: str
    type: str
    label: str
    output: str  # result column name ("region", "owner")
    categorical: bool = False


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


@attrs.frozen
class Catalogue:
    data: dict[str, Any]
    values: dict[str, tuple[str, ...]] = attrs.field(factory=dict)  # "object.field" -> distinct values in the data

    @classmethod
    def load(cls, extra: str | Path | Mapping[str, Any] | None = None) -> Catalogue:
        """The built-in catalogue, deep-merged with ``extra`` (a JSON file path or a mapping)."""
        data = json.loads(resources.files(__package__).joinpath("catalogue.json").read_text(encoding="utf-8"))
        if extra is not None:
            if not isinstance(extra, Mapping):
                try:
                    extra = json.loads(Path(extra).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise ConfigError(
                        f"reporting.catalogue: expected a readable JSON file, got {str(extra)!r} ({exc})"
                    ) from exc
            if not isinstance(extra, Mapping):
                raise ConfigError("reporting.catalogue: expected a JSON object at the top level")
            data = _merge(data, extra)
        cat = cls(data)
        cat.check()
        return cat

    def with_values(self, values: Mapping[str, tuple[str, ...]]) -> Catalogue:
        return attrs.evolve(self, values=dict(values))

    # -- structure ------------------------------------------------------------------------------
    @property
    def objects(self) -> dict[str, Any]:
        return self.data["objects"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.data.get("metrics", {})

    @property
    def tenant_column(self) -> str | None:
        return self.data.get("tenant_column")

    def object(self, name: str) -> dict[str, Any]:
        try:
            return self.objects[name]
        except (KeyError, TypeError):
            raise ValidationError(
                [FieldError("object", f"one of {', '.join(sorted(self.objects))}", repr(name)[:80])], subject="query"
            ) from None

    def metric(self, name: str) -> dict[str, Any]:
        try:
            return self.metrics[name]
        except (KeyError, TypeError):
            raise ValidationError(
                [FieldError("aggregates.metric", f"one of {', '.join(sorted(self.metrics))}", repr(name)[:80])],
                subject="query",
            ) from None

    def resolve(self, obj_name: str, path: str, *, where: str = "field") -> ResolvedField:
        """Resolve ``name``, ``join.name`` or an alias on ``obj_name``; anything else is a ValidationError."""
        obj = self.object(obj_name)
        if not isinstance(path, str) or not path or len(path) > 100:
            raise ValidationError([FieldError(where, "a catalogue field name", repr(path)[:80])], subject="query")
        canonical = obj.get("aliases", {}).get(path, path)
        join, _, column = canonical.rpartition(".")
        target = obj_name
        if join:
            spec = obj.get("joins", {}).get(join)
            if spec is None or "." in join:
                raise ValidationError(
                    [
                        FieldError(
                            where,
                            f"a field of {obj_name} or one of its joins ({', '.join(obj.get('joins', {})) or 'none'})",
                            repr(path)[:80],
                        )
                    ],
                    subject="query",
                )
            target = spec["object"]
        fields = self.objects[target]["fields"]
        if column not in fields:
            raise ValidationError(
                [FieldError(where, f"a field of {target} ({', '.join(fields)})", repr(path)[:80])], subject="query"
            )
        spec_f = fields[column]
        output = path if "." not in path else path.replace(".", "_")
        label = spec_f.get("label", column)
        if join and path == canonical and column == self.objects[target].get("name_field"):
            output = join
        if join and output != column:
            label = output.replace("_", " ").title()
        return ResolvedField(
            path=canonical,
            join=join or None,
            object=target,
            column=column,
            type=spec_f["type"],
            label=label,
            output=output,
            categorical=bool(spec_f.get("categorical")),
        )

    def name_fields(self) -> list[tuple[str, str]]:
        """(object, name field) of the objects whose record names a question may use as a filter."""
        return [(o, spec.get("name_field", "name")) for o, spec in self.objects.items() if spec.get("match_names")]

    def categorical_fields(self) -> list[tuple[str, str]]:
        return [(o, f) for o, spec in self.objects.items() for f, fs in spec["fields"].items() if fs.get("categorical")]

    def check(self) -> None:
        """Fail early (ConfigError naming the key) on a catalogue that references unknown things."""
        errors: list[str] = []
        for oname, obj in self.objects.items():
            for key in ("table", "fields"):
                if key not in obj:
                    errors.append(f"objects.{oname}.{key}: required")
            for fname, f in obj.get("fields", {}).items():
                if f.get("type") not in FIELD_TYPES:
                    errors.append(f"objects.{oname}.fields.{fname}.type: expected one of {FIELD_TYPES}")
            for jname, j in obj.get("joins", {}).items():
                if j.get("object") not in self.objects:
                    errors.append(f"objects.{oname}.joins.{jname}.object: unknown object {j.get('object')!r}")
        for mname, m in self.metrics.items():
            if m.get("object") not in self.objects:
                errors.append(f"metrics.{mname}.object: unknown object {m.get('object')!r}")
            elif m.get("kind") not in METRIC_KINDS:
                errors.append(f"metrics.{mname}.kind: expected one of {', '.join(METRIC_KINDS)}")
        if errors:
            raise ConfigError("Invalid reporting catalogue: " + "; ".join(errors))

    def describe(self) -> dict[str, Any]:
        """A compact description (for an LLM prompt and for 'what can be asked' messages)."""
        return {
            "objects": {
                o: {
                    "fields": {f: s["type"] for f, s in spec["fields"].items()},
                    "joins": {j: s["object"] for j, s in spec.get("joins", {}).items()},
                    "aliases": spec.get("aliases", {}),
                    "values": {
                        f: list(self.values.get(f"{o}.{f}", ()))[:30]
                        for f, s in spec["fields"].items()
                        if s.get("categorical")
                    },
                }
                for o, spec in self.objects.items()
            },
            "metrics": {
                m: {"object": s["object"], "label": s["label"], "date_field": s.get("date_field")}
                for m, s in self.metrics.items()
            },
        }
