"""hotcrm-ai: one way for every CRM module to use machine learning.

Names are resolved lazily (PEP 562) so that ``import hotcrm_ai`` costs almost nothing: numpy,
cattrs and the services load when first touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # the plugin contract
    "hookimpl": "hotcrm_ai.hookspecs",
    "hookspec": "hotcrm_ai.hookspecs",
    "ProviderSpec": "hotcrm_ai.descriptors",
    "CacheBackendSpec": "hotcrm_ai.descriptors",
    "ExplainerSpec": "hotcrm_ai.descriptors",
    "MonitorSinkSpec": "hotcrm_ai.descriptors",
    "QueryTranslatorSpec": "hotcrm_ai.descriptors",
    "StoreSpec": "hotcrm_ai.descriptors",
    "EngineSpec": "hotcrm_ai.descriptors",
    "SectionSpec": "hotcrm_ai.descriptors",
    "Descriptor": "hotcrm_ai.descriptors",
    "BaseMLProvider": "hotcrm_ai.provider",
    "CacheBackend": "hotcrm_ai.interfaces",
    "MonitorSink": "hotcrm_ai.interfaces",
    "Explainer": "hotcrm_ai.interfaces",
    "ExplanationTask": "hotcrm_ai.interfaces",
    "LinearModel": "hotcrm_ai.interfaces",
    "QueryTranslator": "hotcrm_ai.interfaces",
    # types
    "ModelConfig": "hotcrm_ai.types",
    "FeatureSpec": "hotcrm_ai.types",
    "ModelMetrics": "hotcrm_ai.types",
    "ABTest": "hotcrm_ai.types",
    "ProviderConfig": "hotcrm_ai.types",
    "PredictionInput": "hotcrm_ai.types",
    "PredictionOutput": "hotcrm_ai.types",
    "PredictionResult": "hotcrm_ai.types",
    "PredictionEvent": "hotcrm_ai.types",
    "HealthReport": "hotcrm_ai.types",
    "Explanation": "hotcrm_ai.types",
    "FeatureContribution": "hotcrm_ai.types",
    "ErrorInfo": "hotcrm_ai.types",
    "Secret": "hotcrm_ai.secrets",
    "converter": "hotcrm_ai.converter",
    # services
    "AICloud": "hotcrm_ai.cloud",
    "ModelRegistry": "hotcrm_ai.registry",
    "PluginHost": "hotcrm_ai.plugins",
    "Settings": "hotcrm_ai.config",
    "PerformanceMonitor": "hotcrm_ai.monitor.monitor",
    "ModelStats": "hotcrm_ai.monitor.stats",
    "HealthStatus": "hotcrm_ai.monitor.health",
    "CacheManager": "hotcrm_ai.cache.manager",
    "ExplainabilityService": "hotcrm_ai.explain.service",
    "Comparison": "hotcrm_ai.explain.compare",
    "FeatureDifference": "hotcrm_ai.explain.compare",
    "load_settings": "hotcrm_ai.config",
}

_ERRORS = (
    "HotCRMAIError ConfigError PluginError RegistryError ModelNotFoundError ModelInactiveError FieldError "
    "ValidationError PredictionError ProviderError ProviderTimeoutError ProviderConnectionError "
    "ProviderRateLimitError ProviderServerError ProviderAuthError ProviderRequestError ProviderCapabilityError "
    "ProviderModelError ProviderResponseError CircuitOpenError CacheError ExplanationError ReportingError "
    "RegistryConflictError StoreError StoreUnavailableError StoreSchemaError"
).split()
_EXPORTS.update({name: "hotcrm_ai.errors" for name in _ERRORS})

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hotcrm_ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - static view of the lazy names
    from hotcrm_ai.cloud import AICloud
    from hotcrm_ai.config import Settings, load_settings
    from hotcrm_ai.converter import converter
    from hotcrm_ai.descriptors import (
        CacheBackendSpec,
        Descriptor,
        EngineSpec,
        ExplainerSpec,
        MonitorSinkSpec,
        ProviderSpec,
        QueryTranslatorSpec,
        SectionSpec,
        StoreSpec,
    )
    from hotcrm_ai.errors import *
    from hotcrm_ai.hookspecs import hookimpl, hookspec
    from hotcrm_ai.interfaces import (
        CacheBackend,
        Explainer,
        ExplanationTask,
        LinearModel,
        MonitorSink,
        QueryTranslator,
    )
    from hotcrm_ai.plugins import PluginHost
    from hotcrm_ai.provider import BaseMLProvider
    from hotcrm_ai.registry import ModelRegistry
    from hotcrm_ai.secrets import Secret
    from hotcrm_ai.types import (
        ABTest,
        ErrorInfo,
        Explanation,
        FeatureContribution,
        FeatureSpec,
        HealthReport,
        ModelConfig,
        ModelMetrics,
        PredictionEvent,
        PredictionInput,
        PredictionOutput,
        PredictionResult,
        ProviderConfig,
    )
