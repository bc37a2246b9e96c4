"""Command line: the only place that parses argv and exits."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from gpu_sentinel import __version__
from gpu_sentinel.auth.policy import InsecureBindError
from gpu_sentinel.config import SettingError, Settings, describe_validation_error, setting_name

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 1
"""The database could not be reached, or refused the change (its message says why)."""


class UsageError(Exception):
    """A mistake the user can fix; ``main`` prints it as one line and exits with status 2."""


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
    serve.add_argument(
        "--simulate-mig",
        dest="simulate_mig_gpus",
        type=int,
        metavar="N",
        help="with --simulate, put the last N GPUs in MIG mode (3g.40gb, 2g.20gb and two 1g.10gb)",
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
    serve.add_argument(
        "--database",
        dest="database_url",
        metavar="URL",
        help="postgresql://... (default: SQLite in data dir)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.add_argument(
        "--anonymous-read",
        dest="anonymous_read",
        action=argparse.BooleanOptionalAction,
        help="allow reads without a token (default: only when bound to loopback)",
    )
    serve.add_argument(
        "--allow-insecure-bind",
        dest="allow_insecure_bind",
        action="store_const",
        const=True,
        help="start even with anonymous reads on a non-loopback address",
    )
    serve.add_argument(
        "--process-actions",
        dest="process_actions",
        action=argparse.BooleanOptionalAction,
        help="let admins terminate, pause and resume GPU processes (default: only when bound to loopback)",
    )
    serve.add_argument(
        "--hub",
        dest="hub",
        action="store_const",
        const=True,
        help="also serve the fleet API: every node sharing the database",
    )
    serve.add_argument(
        "--rate-limit", dest="rate_limit", type=float, metavar="PER_SECOND", help="per client; 0 disables"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpu-sentinel",
        description="Monitor NVIDIA GPUs and their host: live metrics, history, alerts, dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"gpu-sentinel {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(subparsers)
    _export_parser(subparsers)
    _user_parser(subparsers)
    _migrate_parser(subparsers)
    return parser


def _migrate_parser(subparsers: Any) -> None:
    migrate = subparsers.add_parser(
        "migrate",
        help="create or upgrade the database's tables and exit (run as the owner of a shared schema, "
        "so nodes and hubs can use roles that may not create tables)",
    )
    migrate.add_argument("--data-dir", dest="data_dir", help="where the service keeps its files")
    migrate.add_argument(
        "--database", dest="database_url", metavar="URL", help="postgresql://... or sqlite:///path"
    )


def migrate(args: argparse.Namespace) -> int:
    import sqlite3

    import psycopg

    from gpu_sentinel.alerts.repository import ALERTS_SCHEMA
    from gpu_sentinel.store import open_database
    from gpu_sentinel.store.database import DatabaseUnavailableError

    settings = load_settings(args, ["data_dir", "database_url"])
    database = open_database(settings)
    try:
        history = database.migrate()
        alerts = database.migrate(ALERTS_SCHEMA)
    except (DatabaseUnavailableError, psycopg.Error, sqlite3.Error) as exc:
        problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"gpu-sentinel migrate: {database.location}: {problem}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        database.close()
    print(f"{database.location}: history schema version {history}, alerts schema version {alerts}")
    return 0


def _user_parser(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", dest="data_dir", help="where the service keeps its files")
    user = subparsers.add_parser("user", help="manage the users who may log in")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", parents=[common], help="add a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=["viewer", "admin"], default="viewer")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    actions.add_parser("remove", parents=[common], help="remove a user").add_argument("username")
    actions.add_parser("list", parents=[common], help="list users and their roles")


def _read_password(from_stdin: bool) -> str:
    """From the terminal (asked twice), or the first line of standard input when it is not a terminal."""
    if from_stdin or sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line.strip("\r\n"):
            raise UsageError(
                "no password on standard input and no terminal to ask on; pipe it in: "
                "printf '%s\\n' \"$PASSWORD\" | gpu-sentinel user add NAME --password-stdin"
            )
        return line.rstrip("\r\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        raise ValueError("the passwords do not match")
    return password


def users(args: argparse.Namespace) -> int:
    from gpu_sentinel.auth import user_store
    from gpu_sentinel.errors import SentinelError
    from gpu_sentinel.preflight import check_data_dir

    settings = load_settings(args, ["data_dir"])
    check_data_dir(settings.data_dir, create=args.action == "add")
    store = user_store(settings)
    try:
        if args.action == "add":
            user = store.add(args.username, _read_password(args.password_stdin), args.role)
            print(f"added {user.username} ({user.role})")
        elif args.action == "remove":
            store.remove(args.username, keep_an_admin=False)
            print(f"removed {args.username}")
        else:
            for user in store.list():
                print(f"{user.username}\t{user.role}")
    except (SentinelError, ValueError) as exc:
        print(f"gpu-sentinel user: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _export_parser(subparsers: Any) -> None:
    from gpu_sentinel.store.metrics import METRICS
    from gpu_sentinel.store.query import RANGE_PRESETS_S

    export = subparsers.add_parser("export", help="write history as CSV or JSON")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument(
        "--metric", action="append", metavar="NAME", help=f"repeatable; one of {', '.join(METRICS)}"
    )
    export.add_argument("--gpu", dest="gpu_ids", type=int, action="append", metavar="ID", help="repeatable")
    export.add_argument(
        "--range", dest="preset", choices=list(RANGE_PRESETS_S), help="ending now (default 1h)"
    )
    export.add_argument("--start", help="ISO 8601 or Unix seconds")
    export.add_argument("--end", help="ISO 8601 or Unix seconds (default now)")
    export.add_argument("--bucket", type=int, metavar="SECONDS", help="default: the finest resolution kept")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--data-dir", dest="data_dir", help="where the service keeps its files")
    export.add_argument(
        "--database", dest="database_url", metavar="URL", help="postgresql://... or sqlite:///path"
    )


def _timestamp(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        from datetime import datetime, timezone

        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp())


def export(args: argparse.Namespace) -> int:
    import time

    from gpu_sentinel.errors import SentinelError
    from gpu_sentinel.node import read_node_identity
    from gpu_sentinel.store import HistoryStore, TrendQuery
    from gpu_sentinel.store.export import history_exists
    from gpu_sentinel.store.query import window

    settings = load_settings(args, ["data_dir", "database_url"])
    store = HistoryStore.from_settings(
        settings, node=read_node_identity(settings.data_dir, settings.node_name)
    )
    try:
        if not history_exists(store.database):
            raise UsageError(f"no history yet in {store.database.location}; `gpu-sentinel serve` records it")
        start, end, _ = window(_timestamp(args.start), _timestamp(args.end), args.preset, None, time.time())
        gpus = tuple(args.gpu_ids) if args.gpu_ids else None
        metrics = tuple(name for value in args.metric or () for name in value.split(",") if name)
        chunks = store.export(TrendQuery(metrics, start, end, gpus, args.bucket), args.format)
        if args.output:
            with open(args.output, "wb") as output:
                output.writelines(chunks)
        else:
            sys.stdout.buffer.writelines(chunks)
    except (SentinelError, ValueError) as exc:
        print(f"gpu-sentinel export: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.database.close()
    return 0


def load_settings(args: argparse.Namespace, fields: Sequence[str]) -> Settings:
    """Settings from the environment, with every flag the user gave taking precedence."""
    overrides = {name: getattr(args, name) for name in fields if getattr(args, name, None) is not None}
    return Settings(**overrides)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gpu_sentinel.api.app import create_app
    from gpu_sentinel.auth.policy import check_bind
    from gpu_sentinel.filemodes import restrict_new_files, tighten_private_files
    from gpu_sentinel.logs import setup_logging
    from gpu_sentinel.preflight import check_serve

    fields = [name for name in Settings.model_fields if hasattr(args, name)]
    settings = load_settings(args, fields)
    log_file = settings.log_file
    if log_file is None and "log_file" not in settings.model_fields_set:
        log_file = settings.default_log_file
    warnings = check_bind(settings)
    restrict_new_files()
    check_serve(settings)
    setup_logging(settings.log_level, log_file)
    tighten_private_files(settings, log_file)
    for warning in warnings:
        logging.getLogger("gpu_sentinel").warning("!!! %s !!!", warning)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        access_log=args.access_log,
        server_header=False,
        # The app itself decides whose X-Forwarded-For to believe (GPU_SENTINEL_TRUSTED_PROXIES).
        proxy_headers=False,
        # Each stream frame is rendered once for every subscriber; compressing it per connection would
        # cost more CPU than the few kilobytes a frame saves.
        ws_per_message_deflate=False,
    )
    return 0


def fail(message: str) -> int:
    """The error as one line on stderr (a parser's message may span several), and the usage exit code."""
    print(" ".join(message.split()), file=sys.stderr)
    return EXIT_USAGE


def option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's destination and its long name, across every subcommand."""
    names: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                names.update(option_names(subparser))
        elif action.option_strings:
            names.setdefault(action.dest, next(o for o in action.option_strings if o.startswith("--")))
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Settings the user gave as flags are named by their flag in errors, the rest by their variable.
    given = option_names(parser).items()
    flags = {dest: name for dest, name in given if getattr(args, dest, None) is not None}
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "export":
            return export(args)
        if args.command == "user":
            return users(args)
        if args.command == "migrate":
            return migrate(args)
    except ValidationError as exc:
        return fail(f"gpu-sentinel: {describe_validation_error(exc, flags)}")
    except SettingError as exc:
        return fail(f"gpu-sentinel: invalid setting {setting_name(exc.field, flags)}: {exc.problem}")
    except UsageError as exc:
        return fail(f"gpu-sentinel {args.command}: {exc}")
    except InsecureBindError as exc:
        return fail(f"gpu-sentinel: {exc}")
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
