"""Declared options: every plugin part states its options as a frozen attrs class, and one policy reads them.

The policy, everywhere (providers, cache backends, monitor sinks, explainers, translators, config
sections): an unknown key is a ``ConfigError`` naming the section and the key, with the closest valid
name ("did you mean ``backend``?"); a wrong type names the key and the type expected. Values are
structured through ``hotcrm_ai.converter`` (strict: no ``"1"`` becoming ``1.0``). A field typed
``Secret`` accepts a plain string or ``{ env = "NAME" }`` and is never printed.

A class may accept other spellings of a key (an SDK's, a camelCase one) by listing them in a class
variable ``ALIASES = {"other_name": "field_name"}``; giving two spellings of one key is an error. Keys
a part no longer reads go in ``RETIRED = {"old_key": "what to write instead"}``: each is a
``ConfigError`` pointing to its replacement rather than a plain unknown key.
"""

from __future__ import annotations

import difflib
import functools
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from hotcrm_ai.errors import ConfigError, FieldError, ValidationError

if TYPE_CHECKING:
    from hotcrm_ai.types import ModelConfig

T = TypeVar("T")
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): expected (.*?)(?:, got (.*))?$", re.S)


class OptionError(ValueError):
    """Raised by an option's validator: ``field: expected ..., got ...`` (kept apart by ``parse_options``)."""

    def __init__(self, field: str, expected: str, got: Any = None) -> None:
        self.field_error = FieldError(field, expected, "" if got is None else repr(got)[:80])
        super().__init__(str(self.field_error))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def at_least(low: float, *, integer: bool = True) -> Validator:
    """Validator: a number >= ``low`` (None passes: optional options)."""

    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value < low:
            raise OptionError(attribute.name, f"{'an integer' if integer else 'a number'} >= {_num(low)}", value)

    return check


def between(low: float, high: float, *, integer: bool = True) -> Validator:
    """Validator: a number in ``[low, high]`` (None passes)."""

    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not low <= value <= high:
            kind = "an integer" if integer else "a number"
            raise OptionError(attribute.name, f"{kind} >= {_num(low)} and <= {_num(high)}", value)

    return check


def positive(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a number > 0 (None passes)."""
    if value is not None and not value > 0:
        raise OptionError(attribute.name, "a number > 0", value)


def non_empty(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a non-blank string (None passes)."""
    if value is not None and not str(value).strip():
        raise OptionError(attribute.name, "a non-empty string", value)


def prompt_template(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A chat prompt template: non-empty, its placeholders names (``{features}``, ``{<feature name>}``),
    never ``{a[0]}`` or ``{}``."""
    from hotcrm_ai.prompts import bad_placeholder

    non_empty(inst, attribute, value)
    bad = None if value is None else bad_placeholder(value)
    if bad is not None:
        raise OptionError(attribute.name, "placeholders {features} or {<feature name>} only", bad)


def env_only(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a ``Secret`` given as ``{ env = "NAME" }``, never the value itself (a value written
    into a file is shown by ``config show`` and lands in version control). None passes."""
    if value is not None and getattr(value, "env", None) is None:
        raise OptionError(attribute.name, '{env = "NAME"} (never the secret itself)', "a literal value")


def one_of(*choices: Any) -> Validator:
    """Validator: one of ``choices``, compared with their types (``True`` is not ``1``)."""

    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not any(type(value) is type(c) and value == c for c in choices):
            raise OptionError(attribute.name, f"one of {', '.join(repr(c) for c in choices)}", value)

    return check


def _named(errors: list[FieldError]) -> list[FieldError]:
    """A validator's ``name: expected ...`` reported under ``$`` or a nested table (attrs runs it
    after cattrs) put back under its field."""
    out = []
    for error in errors:
        match = _NAMED.match(error.expected) or _NAMED.match(error.expected.removeprefix("expected "))
        if match is None:
            out.append(error)
            continue
        field = match[1] if error.field == "$" else f"{error.field}.{match[1]}"
        out.append(FieldError(field, match[2], match[3] or ""))
    return out


def suggestion(name: str, known: Iterable[str]) -> str:
    """``"; did you mean `x`?"`` for the closest known name, else ``""``."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def unknown_name(what: str, name: str, known: Iterable[str]) -> ConfigError:
    """The error for a name (a key, a provider, a backend) that is not among ``known``."""
    names = sorted(known)
    listed = ", ".join(names) if names else "none"
    return ConfigError(f"{what}: unknown {name!r}{suggestion(name, names)} (known: {listed})")


def option_names(cls: type) -> frozenset[str]:
    """The keys ``cls`` accepts: its fields and their aliases."""
    return frozenset(a.name for a in attrs.fields(cls)) | frozenset(getattr(cls, "ALIASES", {}))


def retired_names(cls: type) -> Mapping[str, str]:
    """The keys ``cls`` no longer reads, each with what to write instead (its ``RETIRED``)."""
    return getattr(cls, "RETIRED", {})  # type: ignore[no-any-return]


def own_options(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a table shared by several parts (``[cache]``, ``[reporting]``) that ``cls`` reads:
    its keys, their aliases and the keys it retired (so those still get their pointer)."""
    names = option_names(cls) | frozenset(retired_names(cls))
    return {k: v for k, v in data.items() if k in names}


def check_keys(
    section: str, given: Iterable[str], known: Iterable[str], *, retired: Mapping[str, str] | None = None
) -> None:
    """``ConfigError`` for the first unknown key in ``given`` (sorted), naming the section and key;
    a key in ``retired`` says what replaces it (never its value: it may have held a secret)."""
    known = frozenset(known)
    for key in sorted(set(given) & set(retired or {})):
        raise ConfigError(f"[{section}] {key!r} is no longer read; {retired[key]}")  # type: ignore[index]
    for key in sorted(set(given) - known):
        raise ConfigError(
            f"[{section}] unknown key {key!r}{suggestion(key, known)} (known: {', '.join(sorted(known)) or 'none'})"
        )


def _canonical_keys(cls: type, data: Mapping[str, Any], section: str) -> dict[str, Any]:
    aliases: Mapping[str, str] = getattr(cls, "ALIASES", {})
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in data.items():
        name = aliases.get(key, key)
        if name in spelled:
            raise ConfigError(f"[{section}] {spelled[name]!r} and {key!r} both given; expected one of them")
        spelled[name] = key
        out[name] = value
    return out


def _nested_class(annotation: Any) -> tuple[type | None, bool]:
    """The attrs class a field holds (``T``, ``T | None``) or holds a list of (``tuple[T, ...]``,
    ``list[T]``), and whether it is a list; (None, False) for anything else."""
    if isinstance(annotation, type) and attrs.has(annotation):
        return annotation, False
    args = [a for a in typing.get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if len(args) != 1 or not (isinstance(args[0], type) and attrs.has(args[0])):
        return None, False
    origin = typing.get_origin(annotation)
    return args[0], origin in (tuple, list, frozenset, set)


@functools.cache
def _nested_fields(cls: type) -> dict[str, tuple[type | None, bool]]:
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation that cannot be resolved: cattrs reports it
        return {}
    return {name: found for name, hint in hints.items() if (found := _nested_class(hint))[0] is not None}


def _check_lists(cls: type, data: Mapping[str, Any], section: str, path: str) -> None:
    """A list field given a string or a table is refused as such: both are iterable, and ``"one"``
    must not become ``("o", "n", "e")`` nor a table its keys."""
    for a in attrs.fields(cls):  # type: ignore[arg-type]
        value = data.get(a.name)
        if isinstance(value, (str, Mapping)) and str(a.type).startswith(("tuple", "list", "frozenset", "set")):
            got = "a table" if isinstance(value, Mapping) else repr(value)[:80]  # a table may hold a secret
            error = FieldError(f"{path}{a.name}", "a list", got)
            raise ConfigError(str(ValidationError([error], subject=f"[{section}]")))


def _check_nested_keys(cls: type, data: Mapping[str, Any], section: str, path: str) -> None:
    """The policy further down: a table (or a list of tables) of a field typed with an attrs class
    gets the same unknown-key error, naming where it is (``[server.api_keys[0]] unknown key 'role'``)."""
    nested = _nested_fields(cls)
    for name, value in data.items():
        inner, many = nested.get(name, (None, False))
        if inner is None:
            continue
        tables = list(enumerate(value)) if many and isinstance(value, (list, tuple)) else [(None, value)]
        for i, table in tables:
            if isinstance(table, Mapping):
                where = f"{path}{name}" + ("" if i is None else f"[{i}]")
                check_keys(f"{section}.{where}", table, option_names(inner), retired=retired_names(inner))
                _check_lists(inner, table, section, f"{where}.")
                _check_nested_keys(inner, table, section, f"{where}.")


def parse_options(cls: type[T], data: Mapping[str, Any] | None, *, section: str) -> T:
    """``data`` structured into the declared options class ``cls`` under the one policy."""
    from hotcrm_ai.converter import structure

    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{section}]: expected a table of options, got {type(data).__name__}")
    check_keys(section, data, option_names(cls), retired=retired_names(cls))
    data = _canonical_keys(cls, data, section)
    _check_lists(cls, data, section, "")
    _check_nested_keys(cls, data, section, "")
    try:
        return structure(data, cls, subject=f"[{section}]")
    except ValidationError as exc:
        raise ConfigError(str(ValidationError(_named(exc.errors), subject=exc.subject))) from None
    except OptionError as exc:
        raise ConfigError(str(ValidationError([exc.field_error], subject=f"[{section}]"))) from None


#: ``parameters`` keys the core itself reads for any model, whatever its provider declares
#: (``example``: the input ``hotcrm-ai demo`` shows).
SHARED_MODEL_PARAMETERS = frozenset({"example"})


_PARSED: dict[tuple[type, int], tuple[ModelConfig, Any]] = {}


def parse_model_options(cls: type[T], model: ModelConfig) -> T:
    """A model's ``parameters`` structured into its provider's declared per-model options class.

    Errors name the model: ``[models.<id>.parameters] unknown key 'temprature'; did you mean
    `temperature`?``. The keys in ``SHARED_MODEL_PARAMETERS`` are left out (the core reads them).
    Providers call this on every request, so a model's answer is kept (models are frozen; the entry
    holds the model, so its id cannot be reused while cached)."""
    entry = _PARSED.get((cls, id(model)))
    if entry is not None and entry[0] is model:
        return entry[1]  # type: ignore[no-any-return]
    params = {k: v for k, v in model.parameters.items() if k not in SHARED_MODEL_PARAMETERS}
    parsed = parse_options(cls, params, section=f"models.{model.id}.parameters")
    if len(_PARSED) > 1024:
        _PARSED.clear()
    _PARSED[(cls, id(model))] = (model, parsed)
    return parsed


def options_text(options: Any) -> dict[str, Any]:
    """A declared options object as printable data: secrets as their reference or a redaction mark."""
    from hotcrm_ai.converter import unstructure

    return unstructure(options)  # type: ignore[no-any-return]
