"""Commands that run things: ``stack up|down|status``, ``worker`` and ``api``.

Heavy modules (Faust, FastAPI, the drivers) are imported inside the commands that use them, so
``lotline --help`` and the quick commands start in about 0.2 s instead of about 0.8 s.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from lotline.cli.exits import EXIT_OK, EXIT_UNAVAILABLE
from lotline.settings import Settings
from traceability.errors import SetupError, Unavailable

if TYPE_CHECKING:
    from sinks.clickhouse import ClickHouseAddress
    from sinks.port import Sink


def register(sub: Any) -> None:
    stack = sub.add_parser("stack", help="start, stop or inspect the local stack (broker, ClickHouse, workers)")
    stack.add_argument("action", choices=("up", "down", "status"))
    stack.set_defaults(run=run_stack)

    sub.add_parser("worker", help="run one stream worker in the foreground").set_defaults(run=run_worker)

    api = sub.add_parser("api", help="serve the HTTP API (OpenAPI docs at /docs) in the foreground")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8400, help="port to listen on (default 8400)")
    api.set_defaults(run=run_api)


def run_stack(settings: Settings, args: argparse.Namespace) -> int:
    from deploy import local_stack  # lazy: start-up time (drivers)
    from query.render.operations import stack_text

    if args.action == "up":
        local_stack.up(settings.stack())
    elif args.action == "down":
        local_stack.down(settings.stack())
        return EXIT_OK
    stack_text(local_stack.status(settings.stack()), sys.stdout)
    return EXIT_OK


def run_worker(settings: Settings, args: argparse.Namespace) -> int:
    import faust  # lazy: start-up time (Faust, aiokafka)

    from deploy.kafka_admin import partition_count
    from deploy.local_stack import resolve_endpoints
    from streams.app import create_app
    from streams.topics import TopicNames

    endpoints = resolve_endpoints(settings.stack())
    try:
        closure_partitions = partition_count(endpoints.kafka_bootstrap, TopicNames(settings.topic_prefix).closure,
                                             security=settings.kafka_security())
    except (Unavailable, SetupError) as exc:
        print(f"lotline: cannot start a worker: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    app = create_app(settings.worker(), bootstrap=endpoints.kafka_bootstrap,
                     sink=_worker_sink(settings, endpoints.clickhouse),
                     closure_partitions=closure_partitions)
    faust.Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()
    return EXIT_OK


def _worker_sink(settings: Settings, clickhouse: ClickHouseAddress) -> Sink:
    """ClickHouse, and the serving store after it (``sinks.serving.ServingSink``)."""
    from sinks.clickhouse import ClickHouseSink
    from sinks.serving import ServingSink, ServingStore

    stored = ClickHouseSink(clickhouse)
    path = settings.serving_path()
    if not settings.serving_store:
        if (path / "data.mdb").exists():
            ServingStore(path).forget()  # rows stored from now on would be missing from it
        return stored
    return ServingSink(stored, ServingStore(path), clickhouse)


def run_api(settings: Settings, args: argparse.Namespace) -> int:
    """The API server process: services on the stack's endpoints, served by uvicorn until interrupted."""
    import uvicorn  # lazy: start-up time (FastAPI, uvicorn)

    from deploy.local_stack import resolve_endpoints
    from deploy.log_key import log_key
    from query.api import create_api
    from query.limits import uvicorn_config
    from query.log_api import log_router
    from query.principals import authenticator_for
    from query.services import StackServices
    from query.serving import ServingSource
    from query.transparency import LogReader, LogSigner
    from streams.topics import TopicNames

    endpoints = resolve_endpoints(settings.stack())
    clickhouse = endpoints.clickhouse
    log_reader = LogReader(clickhouse.client, clickhouse.database, origin=settings.log_origin)
    authenticator = authenticator_for(clickhouse.client, clickhouse.database, jwt_issuer=settings.jwt_issuer,
                                      jwt_jwks=settings.jwt_jwks, jwt_audience=settings.jwt_audience,
                                      refresh_seconds=settings.principal_refresh_seconds)
    services = StackServices(endpoints.kafka_bootstrap, clickhouse, TopicNames(settings.topic_prefix),
                             settings.app_id, require_signatures=settings.require_signatures, log=log_reader,
                             authenticator=authenticator, security=settings.kafka_security(),
                             serving=ServingSource(settings.serving_path(), cache_batches=settings.answer_cache_batches)
                             if settings.serving_store else None)
    signer = LogSigner(settings.log_origin, log_key(settings.log_key_file))
    limits = settings.api_limits()
    api = create_api(services, log_routes=log_router(lambda: log_reader, signer),
                     metrics_public=settings.metrics_public, limits=limits)
    level = "warning" if settings.log_level == "info" else settings.log_level
    server = uvicorn.Server(uvicorn_config(api, args.host, args.port, limits, log_level=level))
    try:
        server.run()
    finally:
        services.close()  # the audit records still queued are written
    return EXIT_OK if server.started else EXIT_UNAVAILABLE
