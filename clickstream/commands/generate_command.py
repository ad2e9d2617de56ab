"""Command line of the generator: ``clickstream generate`` and ``clickstream inspect raw``.

Input: the parsed arguments. Output: files landed (generate) or a report (inspect raw), an exit
code. Only argparse is imported at module level: the parser stays cheap to build, and the handlers
import the generator when they run.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich_argparse import RichHelpFormatter

from clickstream.core import config
from clickstream.core.errors import ClickstreamError

if TYPE_CHECKING:
    from clickstream.generator.engine import GeneratorSettings

# Kept here, not imported from the generator, so that building the parser imports nothing heavy.
MALFORMED_KINDS_HELP = (
    "truncated_json, wrong_type, missing_field, unknown_event_type, negative_price, non_utf8, "
    "empty_line"
)
FIELD_ERROR_KINDS_HELP = (
    "optional_wrong_type, optional_out_of_range, invalid_ip, invalid_user_agent, invalid_country"
)


def add_generate_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Flags of ``clickstream generate``."""
    parser.description = (
        "Land synthetic clickstream events as JSON-lines files, one every --seconds-per-file seconds, "
        "each with a ground-truth ledger in <out>/_ledger/. Real time by default (--rate events/s "
        "until --duration, --count or SIGTERM/SIGINT); backfill with --start and --end (or "
        "--duration): simulated history, as fast as the machine allows."
    )
    run = parser.add_argument_group("run")
    run.add_argument("--out", metavar="DIR", help="output folder (default: the raw folder)")
    run.add_argument(
        "--rate", type=float, metavar="PER_S", default=200.0, help="events per second (default 200)"
    )
    run.add_argument(
        "--seconds-per-file",
        dest="interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="seconds of event time per file (default 10)",
    )
    run.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="seconds to run (real time or after --start)",
    )
    run.add_argument("--count", type=int, metavar="N", help="stop after this many valid events")
    run.add_argument("--start", metavar="ISO", help="backfill from this time (UTC if no offset)")
    run.add_argument("--end", metavar="ISO", help="backfill up to this time")
    run.add_argument(
        "--seed", type=int, metavar="N", help="seed; same seed and flags, same files (backfill)"
    )
    run.add_argument(
        "--users", type=int, metavar="N", help="shopper pool (default 300 x rate, at least 10,000)"
    )
    run.add_argument(
        "--products", type=int, metavar="N", default=1000, help="catalogue size (default 1000)"
    )
    run.add_argument("--bots", type=int, metavar="N", default=20, help="bot pool (default 20)")
    funnel = parser.add_argument_group("shoppers (rates are shares in [0, 1])")
    funnel.add_argument(
        "--session-length",
        type=float,
        default=5.0,
        metavar="MEAN",
        help="mean page views and searches (5)",
    )
    funnel.add_argument(
        "--dwell",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="mean seconds between events (15)",
    )
    funnel.add_argument(
        "--cart-rate",
        type=float,
        default=0.30,
        metavar="SHARE",
        help="sessions that add to cart (0.30)",
    )
    funnel.add_argument(
        "--purchase-rate",
        type=float,
        default=0.40,
        metavar="SHARE",
        help="carting sessions that buy (0.40)",
    )
    funnel.add_argument(
        "--search-share",
        type=float,
        default=0.20,
        metavar="SHARE",
        help="browse events that are searches (0.20)",
    )
    funnel.add_argument(
        "--bot-rate",
        type=float,
        metavar="SHARE",
        default=0.002,
        help="sessions that are bot bursts of 150-400 events at 200-1000/min (0.002)",
    )
    faults = parser.add_argument_group("faults (rates per valid event, in [0, 1], default 0)")
    faults.add_argument(
        "--duplicate-rate", type=float, default=0.0, metavar="RATE", help="events sent twice"
    )
    faults.add_argument(
        "--late-rate", type=float, default=0.0, metavar="RATE", help="events delivered late"
    )
    faults.add_argument(
        "--late-delay",
        type=float,
        nargs=2,
        default=(120.0, 600.0),
        metavar=("MIN", "MAX"),
        help="seconds a late event is delayed (120 600)",
    )
    faults.add_argument(
        "--out-of-order-rate",
        type=float,
        default=0.0,
        metavar="RATE",
        help="events moved down their file",
    )
    faults.add_argument(
        "--malformed-rate", type=float, default=0.0, metavar="RATE", help="malformed lines added"
    )
    faults.add_argument(
        "--malformed-kinds",
        metavar="KIND,...",
        help=f"kinds to split --malformed-rate among (default all: {MALFORMED_KINDS_HELP})",
    )
    faults.add_argument(
        "--field-error-rate",
        type=float,
        default=0.0,
        metavar="RATE",
        help="valid events added with one optional field wrong (silver keeps them, the field null)",
    )
    faults.add_argument(
        "--field-error-kinds",
        metavar="KIND,...",
        help=f"kinds to split --field-error-rate among (default all: {FIELD_ERROR_KINDS_HELP})",
    )
    return parser


def kinds_from(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of kinds, or ``default`` when not given."""
    if not text:
        return default
    return tuple(kind.strip() for kind in text.split(",") if kind.strip())


def parse_moment(text: str | None, flag: str) -> datetime | None:
    """ISO-8601 text -> aware datetime (UTC if it has no offset); a one-line error otherwise."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ClickstreamError(f"{flag} {text!r} is not an ISO-8601 date-time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def settings_from_args(args: argparse.Namespace) -> GeneratorSettings:
    """The generator settings the flags ask for."""
    from clickstream.generator.engine import GeneratorSettings
    from clickstream.generator.faults import FaultSettings
    from clickstream.generator.ledger import FIELD_ERROR_KINDS, MALFORMED_KINDS
    from clickstream.generator.sessions import FunnelSettings

    out = Path(args.out).expanduser().absolute() if args.out else config.paths_from_args(args).raw
    return GeneratorSettings(
        out=out,
        rate=args.rate,
        interval=args.interval,
        duration=args.duration,
        count=args.count,
        start=parse_moment(args.start, "--start"),
        end=parse_moment(args.end, "--end"),
        seed=args.seed,
        users=args.users,
        products=args.products,
        bots=args.bots,
        funnel=FunnelSettings(
            session_length=args.session_length,
            dwell=args.dwell,
            cart_rate=args.cart_rate,
            purchase_rate=args.purchase_rate,
            search_share=args.search_share,
            bot_rate=args.bot_rate,
        ),
        faults=FaultSettings(
            duplicate_rate=args.duplicate_rate,
            late_rate=args.late_rate,
            out_of_order_rate=args.out_of_order_rate,
            malformed_rate=args.malformed_rate,
            malformed_kinds=kinds_from(args.malformed_kinds, MALFORMED_KINDS),
            field_error_rate=args.field_error_rate,
            field_error_kinds=kinds_from(args.field_error_kinds, tuple(FIELD_ERROR_KINDS)),
            late_delay=tuple(args.late_delay),
        ),
    )


def run_generate(args: argparse.Namespace) -> int:
    """``clickstream generate``: land files until the end; print the summary."""
    import threading

    from clickstream.generator.engine import generate, stop_on_signals, validate
    from clickstream.generator.landing_report import live_progress, print_summary

    settings = settings_from_args(args)
    validate(settings)
    stop = threading.Event()
    with stop_on_signals(stop), live_progress() as on_file:
        summary = generate(settings, on_file=on_file, stop=stop)
    print_summary(summary)
    return 0


def add_inspect_group(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """Make ``inspect`` a command group; return the action later children are added to."""
    return parser.add_subparsers(dest="inspect_command", required=True, metavar="WHAT")


def inspect_group_handler(args: argparse.Namespace) -> int:
    """Never reached: argparse requires a child of ``inspect``."""
    raise ClickstreamError("choose what to inspect, e.g. `clickstream inspect raw`")


def add_inspect_child(
    children: argparse._SubParsersAction,
    name: str,
    handler: object,
    help_text: str,
    paths: tuple[str, ...] | None = None,
) -> argparse.ArgumentParser:
    """One ``inspect`` child with ``--data-dir`` and the path flags it uses (``paths``: names of
    ``config.PATH_SETTINGS``; default: all of them).

    Its unset flags are left out of the namespace (``argument_default=SUPPRESS``), so path flags
    given before the child's name (``inspect --data-dir X raw``) are not reset by its defaults.
    """
    child = children.add_parser(
        name,
        help=help_text,
        description=help_text,
        formatter_class=RichHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    config.add_path_arguments(child, only=paths)
    child.set_defaults(handler=handler)
    return child


def add_inspect_raw(children: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``inspect raw [PATH] [--strict] [--json] [--late-after SECONDS]``."""
    child = add_inspect_child(
        children,
        "raw",
        run_inspect_raw,
        "validate raw files line by line against the event schema; compare with their ledger",
        paths=("raw",),
    )
    child.add_argument(
        "path", nargs="?", default=None, metavar="PATH", help="folder or file (default: raw folder)"
    )
    child.add_argument(
        "--strict", action="store_true", default=False, help="exit 1 if any line is malformed"
    )
    child.add_argument("--json", action="store_true", default=False, help="print JSON, not a table")
    child.add_argument(
        "--late-after",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="an event this far behind its file's time stamp is late (default 60)",
    )
    return child


def run_inspect_raw(args: argparse.Namespace) -> int:
    """``clickstream inspect raw``: read every line; print the report; 1 if strict and malformed."""
    import json

    from clickstream.generator.inspect_raw import inspect_raw
    from clickstream.generator.landing_report import print_raw_report

    path = (
        Path(args.path).expanduser().absolute() if args.path else config.paths_from_args(args).raw
    )
    if not path.exists():
        raise ClickstreamError(f"{path} does not exist")
    report, ledger = inspect_raw(path, late_after_seconds=args.late_after)
    if args.json:
        document = report.to_json()
        if ledger is not None:
            document["ledger"] = {
                "files": len(ledger.files),
                "lines": ledger.lines,
                "unique_valid_events": ledger.unique_valid_events,
                "duplicates": ledger.duplicates,
                "late_events": ledger.late_events,
                "malformed_by_kind": dict(sorted(ledger.malformed_by_kind.items())),
                "bot_users": len(ledger.bot_user_ids),
                "field_error_events": ledger.field_error_events,
            }
        print(json.dumps(document, indent=2))
    else:
        print_raw_report(report, ledger)
    return 1 if args.strict and report.malformed else 0
