"""Argument types the commands share: durations, thresholds, the output format."""

from __future__ import annotations

import argparse

from infracast.clients.client import THRESHOLD_SOURCES
from infracast.clients.commands.output import FORMATS
from infracast.common.durations import parse_duration


def duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return seconds


def threshold(text: str) -> float | str:
    """A number in the series' unit, a share of its capacity ("10%"), or a node-reported amount."""
    if text in THRESHOLD_SOURCES:
        return text
    try:
        if text.endswith("%"):
            float(text[:-1])
            return text
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number, a percentage of capacity such as 10%, or one of "
            f"{', '.join(THRESHOLD_SOURCES)}") from None


def threshold_question(args: argparse.Namespace) -> tuple[float | str, bool]:
    """(threshold, falling) from --threshold/--below/--above."""
    given = [v for v in (args.threshold, args.below, args.above) if v not in (None, True)]
    if len(given) != 1:
        raise ValueError("give the threshold once: --below VALUE, --above VALUE, or --threshold VALUE "
                         "[--below]; VALUE is a number, a percentage of capacity (10%) or "
                         f"{' / '.join(THRESHOLD_SOURCES)}")
    return given[0], args.below is not None


def add_output(parser: argparse.ArgumentParser) -> None:
    """--output table|json|csv, with --json kept as the older spelling of --output json."""
    parser.add_argument("--output", "-o", choices=FORMATS, default="table",
                        help="table for people (default), json or csv for scripts")
    parser.add_argument("--json", dest="output", action="store_const", const="json",
                        help="same as --output json")


def command(commands, name: str, summary: str, examples: str, description: str = "",
            ) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with worked examples."""
    return commands.add_parser(
        name, help=summary, description=description or summary,
        epilog="examples:\n" + "\n".join("  " + line for line in examples.strip().splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
