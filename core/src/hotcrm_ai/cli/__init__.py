"""The ``hotcrm-ai`` command line. Each area's commands live in their own module with a
``register(cli)`` function; plugins add theirs through the ``register_commands`` hook."""
