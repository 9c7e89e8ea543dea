"""``hotcrm-ai serve``: the command plugins add through ``register_commands``. Only click loads here;
the server stack loads when the command runs."""

from __future__ import annotations

import click

from hotcrm_ai.cli.context import CLIContext


@click.command("serve")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: the root --config, $HOTCRM_AI_CONFIG or ./hotcrm-ai.toml).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="REST port.")
@click.option(
    "--grpc-port", default=8081, show_default=True, type=click.IntRange(0, 65535), help="gRPC port (0: no gRPC)."
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--insecure", is_flag=True, help="Allow binding beyond loopback with no API keys configured.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log level (access log at info).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    config: str | None,
    host: str,
    port: int,
    grpc_port: int,
    workers: int,
    insecure: bool,
    log_level: str,
) -> None:
    """Serve every registered model over the Open Inference Protocol V2 (REST and gRPC), plus
    explanations, analytics (/v1/ask) and Prometheus metrics, behind tenant API keys."""
    from hotcrm_ai_server.runner import WorkerSpec
    from hotcrm_ai_server.runner import serve as run

    root = ctx.find_object(CLIContext)
    path = config or (root.config if root is not None else None)
    run(
        WorkerSpec(config=path, host=host, port=port, grpc_port=grpc_port, log_level=log_level),
        workers=workers,
        insecure=insecure,
    )
