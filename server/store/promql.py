"""Our selectors and series keys as PromQL, and PromQL answers as series keys and arrays.

Labels pass through unchanged in both directions: a node_exporter series read from the
TSDB keeps its `instance` and `job`, and an agent's series keeps its `node`. Selectors
name whichever the series carry, as in PromQL.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infracast.server.selector import Selector
from infracast.server.series import SeriesKey

ANY_SERIES = '{__name__=~".+"}'  # PromQL needs one matcher that does not match ""


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def selector_promql(selector: Selector) -> str:
    """The selector as a PromQL series selector (regexes are anchored there as here)."""
    if not selector.matchers:
        return ANY_SERIES
    inner = ",".join(f"{m.name}{m.op.value}{quote(m.value)}" for m in selector.matchers)
    if all(_matches_empty(m) for m in selector.matchers):
        inner += ',__name__=~".+"'  # e.g. {mountpoint!="/"}: PromQL refuses a selector that matches all
    return "{" + inner + "}"


def _matches_empty(matcher) -> bool:
    return matcher.matches("")


def key_promql(key: SeriesKey) -> str:
    """A selector that names exactly this series."""
    labels = [("__name__", key.metric), *key.labels]
    return "{" + ",".join(f"{name}={quote(value)}" for name, value in labels) + "}"


def series_key(labels: dict[str, str]) -> SeriesKey:
    labels = dict(labels)
    metric = labels.pop("__name__", "")
    return SeriesKey.interned(metric, labels)


def matrix_arrays(result: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """One series' points of a query_range answer as (timestamps in ms, values)."""
    if not result:
        return np.empty(0, dtype=np.int64), np.empty(0)
    points = result[0]["values"]
    timestamps = np.fromiter((round(float(t) * 1000) for t, _ in points), dtype=np.int64, count=len(points))
    values = np.fromiter((float(v) for _, v in points), dtype=np.float64, count=len(points))
    return timestamps, values
