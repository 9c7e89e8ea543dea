"""hotcrm-ai's own features, registered through the same hooks as any third-party plugin.

A plugin may replace any of these by registering the same name with ``replace=True``.
"""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "hotcrm_ai.builtins.memory_cache",
    "hotcrm_ai.builtins.memory_sink",
    "hotcrm_ai.builtins.explainers",
    "hotcrm_ai.builtins.rules_translator",
    "hotcrm_ai.builtins.llm_translator",
    "hotcrm_ai.builtins.sql_store",
    "hotcrm_ai.builtins.local_engine",
)
