"""hotcrm-ai-anthropic: the ``anthropic`` provider (Messages API). Registration lives in ``plugin``;
the SDK loads when the provider is first built, never on import."""
