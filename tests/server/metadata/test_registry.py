"""The registry holds the last declaration of each metric, commits changes before answering,
and comes back from its log after a restart."""

import asyncio
import logging
import sqlite3

import pytest

from infracast.server.errors import ResourceExhausted
from infracast.server.metadata.descriptors import COUNTER, GAUGE, MetricDescriptor
from infracast.server.metadata.registry import MetricRegistry
from infracast.server.store.base import CommitFailed
from infracast.server.store.metadata_log import FILE_NAME, MetadataLog

PGFAULT = MetricDescriptor("node_vmstat_pgfault", COUNTER, "", "/proc/vmstat information field pgfault.")
LOAD = MetricDescriptor("node_load1", GAUGE, "", "1m load average.")


def test_descriptors_survive_a_restart_through_the_log(tmp_path):
    registry = MetricRegistry(MetadataLog(tmp_path))
    assert asyncio.run(registry.record([PGFAULT, LOAD], "agent a")) == 2
    assert asyncio.run(registry.record([PGFAULT, LOAD], "agent b")) == 0  # the same again: no write
    registry.close()
    rows = sqlite3.connect(tmp_path / FILE_NAME).execute("SELECT metric, type FROM metrics").fetchall()
    assert sorted(rows) == [("node_load1", "gauge"), ("node_vmstat_pgfault", "counter")]
    reopened = MetricRegistry(MetadataLog(tmp_path))
    assert reopened.replay() == 2
    assert reopened.get("node_vmstat_pgfault") == PGFAULT
    assert reopened.is_counter("node_vmstat_pgfault")
    assert not reopened.is_counter("node_load1")
    assert reopened.is_counter("never_described_total")  # the suffix rule without a descriptor
    reopened.close()


def test_a_redefinition_wins_and_a_type_change_is_logged(tmp_path, caplog):
    registry = MetricRegistry(MetadataLog(tmp_path))
    asyncio.run(registry.record([PGFAULT], "agent a"))
    as_gauge = MetricDescriptor(PGFAULT.metric, GAUGE, "", "redeclared")
    with caplog.at_level(logging.WARNING):
        assert asyncio.run(registry.record([as_gauge], "agent b")) == 1
    assert "node_vmstat_pgfault was declared a counter and is now declared a gauge by agent b" in caplog.text
    assert not registry.is_counter(PGFAULT.metric)
    registry.close()
    reopened = MetricRegistry(MetadataLog(tmp_path))
    reopened.replay()
    assert reopened.get(PGFAULT.metric) == as_gauge
    reopened.close()


def test_metric_names_beyond_the_limit_are_refused_and_not_held():
    registry = MetricRegistry(max_metrics=2)
    asyncio.run(registry.record([PGFAULT, LOAD], "agent a"))
    with pytest.raises(ResourceExhausted, match="holds descriptors of 2 metrics; agent b sent 1 more"):
        asyncio.run(registry.record([MetricDescriptor("third", GAUGE)], "agent b"))
    assert registry.get("third") is None
    # Redefining a held metric adds no name: still allowed at the limit.
    renamed = MetricDescriptor("node_load1", GAUGE, "", "new help")
    assert asyncio.run(registry.record([renamed], "agent b")) == 1


class FailingLog:
    def load(self):
        return []

    def write(self, descriptors, introduced_by):
        raise CommitFailed("disk full")

    def close(self):
        pass


def test_a_failed_commit_holds_nothing():
    registry = MetricRegistry(FailingLog())
    with pytest.raises(CommitFailed):
        asyncio.run(registry.record([PGFAULT], "agent a"))
    assert registry.get(PGFAULT.metric) is None


def test_a_descriptor_without_a_type_keeps_the_declared_one(tmp_path):
    """A sender that leaves the type unset (proto3's default) does not declare one: the held
    declaration stands, or node_vmstat_pgfault would be forecast as a gauge by its name."""
    registry = MetricRegistry(MetadataLog(tmp_path))
    asyncio.run(registry.record([PGFAULT], "agent a"))
    untyped = MetricDescriptor(PGFAULT.metric, help="Page faults, as another exporter says it.")
    assert asyncio.run(registry.record([untyped], "exporter b")) == 1
    assert registry.is_counter(PGFAULT.metric)
    assert registry.get(PGFAULT.metric) == MetricDescriptor(PGFAULT.metric, COUNTER, "", untyped.help)
    # Sent again and again (every stream's hello): nothing changes, nothing is written.
    assert asyncio.run(registry.record([untyped], "exporter b")) == 0
    registry.close()


def test_a_metadata_file_of_an_earlier_version_counts_its_metrics_as_fleet_wide(tmp_path):
    old = sqlite3.connect(tmp_path / FILE_NAME)
    old.execute("CREATE TABLE metrics (metric TEXT PRIMARY KEY, type TEXT NOT NULL, unit TEXT NOT NULL, "
                "help TEXT NOT NULL) WITHOUT ROWID")
    old.execute("INSERT INTO metrics VALUES ('node_load1', 'gauge', '', '1m load average.')")
    old.commit()
    old.close()
    registry = MetricRegistry(MetadataLog(tmp_path), max_metrics_per_node=1)
    assert registry.replay() == 1 and registry.get("node_load1") == LOAD
    # The held metric is nobody's quota: node n1 may still introduce one name.
    assert asyncio.run(registry.record([PGFAULT], "agent a", node="n1")) == 1
    registry.close()
    rows = sqlite3.connect(tmp_path / FILE_NAME).execute(
        "SELECT metric, introduced_by FROM metrics ORDER BY metric").fetchall()
    assert rows == [("node_load1", ""), ("node_vmstat_pgfault", "n1")]
