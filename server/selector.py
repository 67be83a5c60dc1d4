"""Prometheus-style series selectors: `metric{label="v",other=~"re.*"}`.

The grammar is the instant-vector selector of PromQL without offsets or ranges:
an optional metric name followed by an optional brace list of matchers using
=, !=, =~ or !~. Regular expressions are RE2, fully anchored and with `.` matching a
newline, as in Prometheus: RE2 matches in time linear in the label's length whatever the
pattern, so a selector like `{x=~"(a+)+$"}` cannot stall the server (Python's `re`
backtracks exponentially on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

import re2

from infracast.server.errors import quoted
from infracast.server.series import SeriesKey

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_MATCHER = re.compile(
    r"\s*(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"
    r'"(?P<value>(?:[^"\\]|\\.)*)"\s*(?P<sep>,)?'
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.dot_nl = True  # Prometheus compiles `^(?s:pattern)$`
    options.log_errors = False  # a bad pattern is the client's error, answered, not logged
    return options


_REGEX_OPTIONS = _regex_options()


class SelectorError(ValueError):
    """The selector text does not parse; the message says where and why."""


class Op(Enum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str
    pattern: re2._Regexp | None = None
    # A selector lives for one request, and thousands of series share a few label values:
    # each distinct value goes through the regex once.
    _seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def matches(self, actual: str) -> bool:
        if self.op is Op.EQUAL:
            return actual == self.value
        if self.op is Op.NOT_EQUAL:
            return actual != self.value
        found = self._seen.get(actual)
        if found is None:
            assert self.pattern is not None
            found = self._seen[actual] = self.pattern.fullmatch(actual) is not None
        return found if self.op is Op.REGEX else not found


@dataclass(frozen=True)
class Selector:
    matchers: tuple[Matcher, ...]
    text: str

    def matches(self, key: SeriesKey) -> bool:
        flat = key.flat_labels
        labels = dict(zip(flat[::2], flat[1::2], strict=True))
        labels["__name__"] = key.metric
        # As in Prometheus, a missing label matches as the empty string.
        return all(m.matches(labels.get(m.name, "")) for m in self.matchers)

    @property
    def metric(self) -> str | None:
        """The metric name when the selector pins one exactly, for fast lookup."""
        for m in self.matchers:
            if m.name == "__name__" and m.op is Op.EQUAL:
                return m.value
        return None


def parse_selector(text: str) -> Selector:
    """Parse a selector; the empty string selects every series."""
    source = text.strip()
    matchers: list[Matcher] = []
    name_match = re.match(_NAME, source)
    rest = source
    if name_match:
        matchers.append(Matcher("__name__", Op.EQUAL, name_match.group(0)))
        rest = source[name_match.end() :].strip()
    if rest:
        if not (rest.startswith("{") and rest.endswith("}")):
            raise SelectorError(
                f"cannot parse selector {quoted(text)}: expected metric{{label=\"value\",...}}"
            )
        matchers.extend(_parse_matchers(rest[1:-1], text))
    return Selector(tuple(matchers), source)


def _parse_matchers(body: str, text: str) -> list[Matcher]:
    matchers: list[Matcher] = []
    position = 0
    body = body.strip()
    while position < len(body):
        found = _MATCHER.match(body, position)
        if not found:
            raise SelectorError(
                f"cannot parse selector {quoted(text)} near {quoted(body[position:])}: "
                'expected label="value" with one of = != =~ !~'
            )
        op = Op(found.group("op"))
        value = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), e.group(1)), found["value"])
        pattern = None
        if op in (Op.REGEX, Op.NOT_REGEX):
            try:
                pattern = re2.compile(value, _REGEX_OPTIONS)
            except re2.error as error:
                reason = error.args[0].decode(errors="replace") if error.args else "invalid"
                raise SelectorError(f"bad regular expression {quoted(value)}: {quoted(reason, quotes=False)}"
                                    ) from None
        matchers.append(Matcher(found.group("name"), op, value, pattern))
        position = found.end()
        if found.group("sep") is None and position < len(body):
            raise SelectorError(f"cannot parse selector {quoted(text)}: expected ',' between matchers")
    return matchers
