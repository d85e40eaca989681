"""Commands that put events in and wait for them: ``publish``, ``sync``, ``simulate``, ``sample``.

The broker client and the Avro codec are imported inside the commands that use them (start-up
time: ``simulate`` and ``sample`` need neither).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lotline.cli.exits import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from lotline.settings import Settings
from query.render.progress import Progress
from traceability.errors import BadParameter, NotSynced
from traceability.events import Event
from traceability.json_form import event_to_json
from traceability.sample_chain import yiwu_toys
from traceability.simulation import ChainShape, supply_chain

if TYPE_CHECKING:
    from streams.publishing import Signer


def register(sub: Any) -> None:
    publish = sub.add_parser(
        "publish", help="publish JSON-lines events (DESIGN §2 contracts)",
        description="Validate and publish JSON lines. Bad lines are reported with their line number "
        "and reason and sent to the dead-letter topic. Exit status: 0 all published, 1 some lines "
        "rejected, 3 broker unavailable.",
    )
    publish.add_argument("file", help="JSON-lines file, or - for standard input")
    publish.add_argument("--strict", action="store_true", help="publish nothing if any line is invalid")
    publish.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show progress on stderr (default: when stderr is a terminal)")
    publish.add_argument("--sign-with", metavar="KEY.pem",
                         help="sign every lab result with this lab key (PKCS#8 PEM, from `lotline keys new`); "
                         "each carries its credential, other events pass unchanged")
    publish.add_argument("--kid", help="with --sign-with: the key's id in the lab's registry entry "
                         "(default: LAB-<first 8 hex digits of the key's SHA-256>, as `lotline keys new` names it)")
    publish.add_argument("--accreditation", metavar="NUMBER", default="",
                         help="with --sign-with: the accreditation the credentials claim, e.g. 'CNAS L1234' "
                         "(its first word is the body; default: none claimed)")
    publish.set_defaults(run=run_publish)

    sync = sub.add_parser(
        "sync", help="wait until everything published so far is stored and queryable",
        description="Wait until the workers have committed every topic they read up to its end. "
        "Exit status: 0 synced, 1 still behind after --timeout, 3 broker unreachable.",
    )
    sync.add_argument("--timeout", type=float, default=120.0, metavar="S", help="give up after S seconds (default 120)")
    sync.set_defaults(run=run_sync)

    _register_simulate(sub)

    sample = sub.add_parser(
        "sample", help="write the demo's supply chain (toy factories in Yiwu) as JSON lines",
        description="Resin, pigment and plasticiser lots -> moulded components -> toys -> shipments to "
        "seven countries, with lead and phthalate reports from two registered labs and one unregistered "
        "one. One red pigment lot fails for lead. Times start at midnight UTC ten days ago.",
    )
    sample.add_argument("--out", default="-", help="output file (default: standard output)")
    sample.set_defaults(run=run_sample)


def _register_simulate(sub: Any) -> None:
    simulate = sub.add_parser(
        "simulate", help="write a synthetic supply chain as JSON lines",
        description="Raw-material lots -> components -> finished toys -> shipments, with lab reports "
        "on a fraction of lots, corrections and withdrawals, splits and hub lots. The same seed gives the "
        "same chain (times start 30 days ago). Depth is TIERS+1 (e.g. --tiers 29 for 30 deep).",
    )
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--raw-lots", type=int, default=20)
    simulate.add_argument("--components", type=int, default=40)
    simulate.add_argument("--products", type=int, default=60)
    simulate.add_argument("--shipments-per-product", type=int, default=2)
    simulate.add_argument("--tested-fraction", type=float, default=0.5)
    simulate.add_argument("--failure-rate", type=float, default=0.05)
    simulate.add_argument("--tiers", type=int, default=1,
                          help="component tiers between raw lots and products; the chain is TIERS+1 deep (default 1)")
    simulate.add_argument("--correction-rate", type=float, default=0.0,
                          help="fraction of failing reports later corrected to pass by a version 2 (default 0)")
    simulate.add_argument("--withdrawal-rate", type=float, default=0.0,
                          help="fraction of failing reports later withdrawn by a version 2 (default 0)")
    simulate.add_argument("--shuffle", action="store_true",
                          help="write the events in a random order (seeded), as a disordered stream would deliver them")
    simulate.add_argument("--max-outputs", type=int, default=1,
                          help="a production makes 1 to N lots (splits; default 1)")
    simulate.add_argument("--hub-skew", type=float, default=0.0,
                          help="skew of the choice of inputs: 0 uniform, about 1.2 makes hub lots that end up in "
                          "thousands of products (default 0)")
    simulate.add_argument("--countries", type=int, default=12, help="destination countries, at most 42 (default 12)")
    simulate.add_argument("--recipients", type=int, default=30, help="recipient organisations (default 30)")
    target = simulate.add_mutually_exclusive_group()
    target.add_argument("--out", default="-", help="output file (default: standard output)")
    target.add_argument("--publish", action="store_true",
                        help="publish the events to the stack instead of writing them (as `lotline publish`)")
    simulate.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                          help="with --publish: show progress on stderr (default: when stderr is a terminal)")
    simulate.set_defaults(run=run_simulate)


def run_publish(settings: Settings, args: argparse.Namespace) -> int:
    if (args.kid or args.accreditation) and not args.sign_with:
        raise BadParameter("--kid" if args.kid else "--accreditation", "needs --sign-with KEY.pem")
    signer = _signer(args.sign_with, args.kid or "", args.accreditation) if args.sign_with else None
    source = open_input(args.file)
    if source is None:
        return EXIT_USAGE
    with source:
        return publish_lines(settings, source, args.file, strict=args.strict, progress=Progress(args.progress),
                             signer=signer)


def _signer(path: str, kid: str, accreditation: str) -> Signer:
    """Lab results' signer from a PEM key file (a bad file or kid is exit 2, naming the option)."""
    from schemas import credential  # lazy: start-up time (joserfc, cryptography)
    from streams.publishing import credential_signer
    from traceability.errors import InvalidEvent, SetupError
    from traceability.validation import check_id

    try:
        key = credential.load_private_pem(Path(path).read_bytes())
    except OSError as exc:
        raise BadParameter("--sign-with", f"cannot read {path}: {exc.strerror}") from None
    except SetupError as exc:
        raise BadParameter("--sign-with", f"{path}: {exc}") from None
    if kid:
        try:
            check_id("--kid", kid)
        except InvalidEvent as exc:
            raise BadParameter("--kid", exc.reason.removeprefix("--kid: ")) from None
    if accreditation and " " not in accreditation.strip():
        raise BadParameter("--accreditation", f"expected the body and the number, e.g. 'CNAS L1234', "
                           f"got {accreditation!r}")
    return credential_signer(key, kid=kid, accreditation=accreditation)


def open_input(name: str) -> BinaryIO | None:
    """The file ``name`` (standard input for ``-``) for reading lines, or ``None`` after saying why not."""
    return sys.stdin.buffer if name == "-" else _open(name)


def publish_lines(settings: Settings, lines: Iterable[bytes], name: str, *, strict: bool, progress: Progress,
                  signer: Signer | None = None, accept: Callable[[Event], None] | None = None) -> int:
    """Publish JSON lines to the stack's broker and report like `lotline publish` (exit 0 or 1).

    ``signer`` signs lab results; ``accept`` may refuse events (``streams.publishing.prepare``).

    Raises:
        Unavailable: the broker cannot be reached (the caller says so, exit 3).
    """
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (drivers, Avro)
    from query.render.operations import publish_text
    from schemas.codec import AvroCodec
    from streams.producer import CheckedProducer
    from streams.publishing import publish
    from streams.topics import TopicNames

    bootstrap = resolve_endpoints(settings.stack()).kafka_bootstrap
    with CheckedProducer(bootstrap, security=settings.kafka_security()) as producer:
        report = publish(
            lines, producer, codec=AvroCodec(), topics=TopicNames(settings.topic_prefix),
            now=datetime.now(UTC), strict=strict,
            on_line=lambda r: progress.update(f"published {r.published:,}, rejected {len(r.rejected):,}"),
            signer=signer, accept=accept or (lambda event: None),
        )
    progress.done()
    publish_text(report, name, sys.stdout, sys.stderr)
    return EXIT_REJECTED if report.rejected else EXIT_OK


def _open(name: str) -> BinaryIO | None:
    try:
        return open(name, "rb")  # noqa: SIM115 - closed by the caller's with-block
    except OSError as exc:
        print(f"lotline: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return None


def run_sync(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (drivers)
    from query.render.operations import synced_text
    from streams.offsets import OffsetReader, wait_for_sync
    from streams.topics import TopicNames

    progress = Progress()
    reader = OffsetReader(resolve_endpoints(settings.stack()).kafka_bootstrap, settings.app_id,
                          security=settings.kafka_security())
    try:
        wait_for_sync(
            reader, TopicNames(settings.topic_prefix).consumed, args.timeout,
            on_progress=lambda behind: progress.update(f"waiting for workers: {behind:,} messages behind"),
        )
    except NotSynced as exc:
        progress.done()
        print(f"lotline: {exc} (are the workers running? `lotline stack status`)", file=sys.stderr)
        return EXIT_REJECTED
    finally:
        reader.close()
    progress.done()
    synced_text(sys.stdout)
    return EXIT_OK


def run_simulate(settings: Settings, args: argparse.Namespace) -> int:
    shape = ChainShape(args.raw_lots, args.components, args.products, args.shipments_per_product,
                       args.tested_fraction, args.failure_rate, args.tiers, args.correction_rate,
                       args.withdrawal_rate, args.max_outputs, args.hub_skew, args.countries, args.recipients)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    events = supply_chain(args.seed, shape, start)
    if args.shuffle:
        events = iter(shuffled := list(events))
        random.Random(args.seed).shuffle(shuffled)
    if args.publish:
        lines = (json.dumps(event_to_json(event)).encode() for event in events)
        return publish_lines(settings, lines, "simulate", strict=False, progress=Progress(args.progress))
    with contextlib.nullcontext(sys.stdout) if args.out == "-" else open(args.out, "w") as out:
        for event in events:
            out.write(json.dumps(event_to_json(event)) + "\n")
    return EXIT_OK


def run_sample(settings: Settings, args: argparse.Namespace) -> int:
    # Midnight UTC ten days ago: a rerun the same day gives the same events (ids and times).
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    with contextlib.nullcontext(sys.stdout) if args.out == "-" else open(args.out, "w") as out:
        for event in yiwu_toys(start):
            out.write(json.dumps(event_to_json(event)) + "\n")
    return EXIT_OK
