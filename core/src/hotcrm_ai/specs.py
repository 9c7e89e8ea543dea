"""Old name of :mod:`hotcrm_ai.descriptors`, kept so plugins written against it still import."""

from hotcrm_ai.descriptors import (  # noqa: F401
    CacheBackendSpec,
    Descriptor,
    EngineSpec,
    ExplainerSpec,
    MonitorSinkSpec,
    ProviderSpec,
    QueryTranslatorSpec,
    StoreSpec,
)
