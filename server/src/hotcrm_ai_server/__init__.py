"""hotcrm-ai-server: ``hotcrm-ai serve``, the Open Inference Protocol V2 over REST and gRPC.

Registering costs nothing: the command's module (and Starlette, uvicorn, grpcio) load when it runs."""

from __future__ import annotations

from typing import Any

from hotcrm_ai import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_sections(register: Any) -> None:
    from hotcrm_ai_server.settings import section_spec

    register(section_spec())


@hookimpl
def register_commands(cli: Any) -> None:
    from hotcrm_ai_server.cli import serve

    cli.add_command(serve)
