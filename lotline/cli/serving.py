"""The serving store: ``lotline serving status`` shows it, ``lotline serving rebuild`` builds it again
from ClickHouse (``sinks.serving``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from lotline.cli.exits import EXIT_OK, EXIT_UNAVAILABLE
from lotline.settings import Settings
from traceability.errors import ClickHouseUnavailable


def register(sub: Any) -> None:
    serving = sub.add_parser(
        "serving", help="show or rebuild the serving store current traces and recalls are answered from",
        description="The workers keep the serving store next to ClickHouse (one per machine, shared by its\n"
        "processes); the API and the CLI answer current traces and recalls from it once it is complete, and\n"
        "everything else (as_of, exports, history) from ClickHouse.\n\n"
        "  status   whether it is complete, its batches, closure pairs and size on disk\n"
        "  rebuild  build it again from ClickHouse, the system of record, in one transaction (readers\n"
        "           keep the old content until it commits; workers' writes wait, then merge in)\n\n"
        "Exit status: 0 done, 3 no store (status) or ClickHouse down (rebuild).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serving.add_argument("action", choices=("status", "rebuild"))
    serving.add_argument("--json", action="store_true", help="print the status as one JSON object")
    serving.set_defaults(run=run_serving)


def run_serving(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from sinks.drivers import driver_errors
    from sinks.serving import ServingStore

    path = settings.serving_path()
    if args.action == "rebuild":
        address = resolve_endpoints(settings.stack()).clickhouse
        store, began = ServingStore(path), time.monotonic()
        print(f"building the serving store in {path} from ClickHouse database {address.database} …", file=sys.stderr)
        with driver_errors(ClickHouseUnavailable):
            store.rebuild(address.client(), address.database, force=True)
    elif not (path / "data.mdb").exists():
        print(f"lotline: no serving store in {path}: a worker builds it when it first stores rows",
              file=sys.stderr)
        return EXIT_UNAVAILABLE
    else:
        store, began = ServingStore(path, readonly=True), None
    size, complete = store.size(), store.complete()
    store.close()
    found = {"path": str(path), "complete": complete, "batches": size.batches, "closure_pairs": size.pairs,
             "bytes": size.bytes, "bytes_per_batch": round(size.bytes_per_batch, 1)}
    if args.json:
        print(json.dumps(found, indent=2))
        return EXIT_OK
    if began is not None:
        print(f"built in {time.monotonic() - began:.1f} s")
    print(f"serving store {path}: {'complete' if complete else 'incomplete (answers come from ClickHouse)'}\n"
          f"  {size.batches:,} batches, {size.pairs:,} closure pairs, {size.bytes / 2**20:,.1f} MiB "
          f"({size.bytes_per_batch:,.0f} B per batch)")
    return EXIT_OK
