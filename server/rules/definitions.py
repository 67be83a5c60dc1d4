"""Forecast rules as an operator writes them (YAML), parsed and validated at start.

    rules:
      - name: filesystem-full
        selector: node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}
        threshold: 0             # or capacity_percent: 10 (of node_filesystem_size_bytes)
        direction: falling       # or rising
        horizon: 7d              # how far to search for the crossing
        level: 80                # interval level of the bounds (quantiles 0.1 and 0.9)
        probability_within: [4h, 1d]
        forecast_at: [1h, 6h, 1d]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from infracast.common.durations import format_duration, parse_duration
from infracast.server.selector import SelectorError, parse_selector

NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_KEYS = {"name", "selector", "threshold", "capacity_percent", "direction", "horizon", "level",
         "probability_within", "forecast_at"}


class RuleError(ValueError):
    """The rules file is not valid; the message names the rule and the field."""


@dataclass(frozen=True)
class Rule:
    name: str
    selector: str
    threshold: float
    capacity_percent: float
    rising: bool
    horizon_ms: int
    level: float
    probability_within_ms: tuple[int, ...]
    forecast_at_ms: tuple[int, ...]

    @property
    def quantiles(self) -> tuple[float, float]:
        """The lower and upper bounds' quantiles at the rule's level (80 -> 0.1, 0.9)."""
        tail = (1 - self.level / 100) / 2
        return round(tail, 6), round(1 - tail, 6)


def duration_label(ms: int) -> str:
    return format_duration(ms / 1000)


def load_rules(path: Path) -> list[Rule]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise RuleError(f"cannot read rules file {path}: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RuleError(f"{path}: expected a mapping with a list under 'rules'")
    rules = [_rule(entry, index) for index, entry in enumerate(document["rules"])]
    names = [rule.name for rule in rules]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise RuleError(f"{path}: rule names must be unique: {', '.join(duplicated)}")
    return rules


def _rule(entry: object, index: int) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"rule {index + 1}: expected a mapping")
    name = str(entry.get("name", ""))
    where = f"rule {name or index + 1}"
    if not NAME.match(name):
        raise RuleError(f"{where}: name must be 1-64 letters, digits, '_', '.' or '-'")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise RuleError(f"{where}: unknown field(s) {', '.join(unknown)}")
    selector = str(entry.get("selector", ""))
    try:
        if not parse_selector(selector).matchers:
            raise RuleError(f"{where}: selector is empty")
    except SelectorError as error:
        raise RuleError(f"{where}: {error}") from None
    threshold = _number(entry.get("threshold", 0.0), where, "threshold")
    percent = _number(entry.get("capacity_percent", 0.0), where, "capacity_percent")
    if threshold and percent:
        raise RuleError(f"{where}: give threshold or capacity_percent, not both")
    if not 0 <= percent <= 100:
        raise RuleError(f"{where}: capacity_percent must be in [0, 100]")
    direction = entry.get("direction", "falling")
    if direction not in ("rising", "falling"):
        raise RuleError(f"{where}: direction must be rising or falling")
    horizon_ms = _duration(entry.get("horizon", "7d"), where, "horizon")
    level = _number(entry.get("level", 80), where, "level")
    if not 0 < level < 100:
        raise RuleError(f"{where}: level must be a percentage in (0, 100)")
    within = tuple(_duration(d, where, "probability_within")
                   for d in _list(entry.get("probability_within", [entry.get("horizon", "7d")])))
    at = tuple(_duration(d, where, "forecast_at") for d in _list(entry.get("forecast_at", ["1h"])))
    for field, values in (("probability_within", within), ("forecast_at", at)):
        if any(ms > horizon_ms for ms in values):
            raise RuleError(f"{where}: {field} may not reach beyond the horizon")
    return Rule(name, selector, threshold, percent, direction == "rising", horizon_ms, level, within, at)


def _list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _number(value: object, where: str, field: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RuleError(f"{where}: {field} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise RuleError(f"{where}: {field} must be finite")
    return number


def _duration(value: object, where: str, field: str) -> int:
    try:
        seconds = parse_duration(str(value))
    except ValueError as error:
        raise RuleError(f"{where}: {field}: {error}") from None
    if seconds <= 0:
        raise RuleError(f"{where}: {field} must be positive")
    return int(seconds * 1000)
