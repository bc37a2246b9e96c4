"""Command line: the only place that parses argv and exits."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from gpu_sentinel import __version__
from gpu_sentinel.config import Settings, describe_validation_error

EXIT_USAGE = 2


def _serve_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the monitoring service and its API")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 5500)")
    serve.add_argument(
        "--simulate",
        dest="simulate_gpus",
        type=int,
        metavar="N",
        help="serve N simulated GPUs instead of NVML",
    )
    serve.add_argument(
        "--simulate-lost-gpu",
        dest="simulate_lost_gpu",
        action="store_const",
        const=True,
        help="with --simulate, let the last GPU fall off the bus after a while",
    )
    serve.add_argument("--seed", dest="simulate_seed", type=int, help="seed for repeatable simulations")
    serve.add_argument(
        "--poll-interval", dest="gpu_poll_interval", type=float, metavar="SECONDS", help="default 0.25"
    )
    serve.add_argument(
        "--slow-poll-interval",
        dest="slow_poll_interval",
        type=float,
        metavar="SECONDS",
        help="processes, PCIe, ECC, storage (default 2)",
    )
    serve.add_argument(
        "--no-gpu",
        dest="enable_gpu_monitoring",
        action="store_const",
        const=False,
        help="monitor the host only",
    )
    serve.add_argument("--log-level", dest="log_level", help="debug, info, warning, error or critical")
    serve.add_argument("--log-file", dest="log_file", help="rotating log file; '' disables it")
    serve.add_argument("--data-dir", dest="data_dir", help="where the service keeps its files")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpu-sentinel",
        description="Monitor NVIDIA GPUs and their host: live metrics, history, alerts, dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"gpu-sentinel {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(subparsers)
    return parser


def load_settings(args: argparse.Namespace, fields: Sequence[str]) -> Settings:
    """Settings from the environment, with every flag the user gave taking precedence."""
    overrides = {name: getattr(args, name) for name in fields if getattr(args, name, None) is not None}
    return Settings(**overrides)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gpu_sentinel.api.app import create_app
    from gpu_sentinel.logs import setup_logging

    fields = [name for name in Settings.model_fields if hasattr(args, name)]
    settings = load_settings(args, fields)
    log_file = settings.log_file
    if log_file is None and "log_file" not in settings.model_fields_set:
        log_file = settings.default_log_file
    setup_logging(settings.log_level, log_file)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        access_log=args.access_log,
        server_header=False,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
    except ValidationError as exc:
        print(f"gpu-sentinel: {describe_validation_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
