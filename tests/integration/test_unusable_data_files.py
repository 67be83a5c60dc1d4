"""A damaged database file in the data directory stops the real server with one line
naming the file, what is wrong and what to do, and the file is left where it was."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from infracast.server.store import metadata_log, sample_log
from tests.conftest import executable

SCHEMAS = {"samples.sqlite": sample_log.SCHEMA, "metadata.sqlite": metadata_log.SCHEMA}
# Root reads any file whatever its mode; without these capabilities it is refused as others are.
AS_AN_ORDINARY_USER = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                       "--bounding-set=-dac_override,-dac_read_search"]


def truncated(path: Path) -> None:
    """A real database of this file's schema, cut in half (a copy interrupted, a full disk)."""
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMAS[path.name])
    if path.name == "samples.sqlite":
        connection.executemany("INSERT INTO series (metric, labels) VALUES (?, ?)",
                               [(f"node_metric_{i}", f'{{"node": "n{i}"}}') for i in range(5000)])
    else:
        connection.executemany("INSERT INTO metrics (metric, type, unit, help) VALUES (?, ?, ?, ?)",
                               [(f"node_metric_{i}", "gauge", "bytes", "help " * 20) for i in range(5000)])
    connection.commit()
    connection.close()
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(size // 2)


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def directory(path: Path) -> None:
    path.mkdir()


def unreadable(path: Path) -> None:
    sqlite3.connect(path).executescript(SCHEMAS[path.name])
    path.chmod(0)


@pytest.mark.parametrize("name", ["samples.sqlite", "metadata.sqlite"])
@pytest.mark.parametrize("damage, complaint", [
    (truncated, "is not a usable SQLite database"),
    (random_bytes, "is not a usable SQLite database"),
    (directory, "is a directory"),
    (unreadable, "cannot be read and written by this process"),
], ids=["truncated", "random-bytes", "directory", "unreadable"])
def test_a_damaged_database_file_stops_the_server_with_one_line_and_is_kept(
        tmp_path, name, damage, complaint):
    path = tmp_path / name
    damage(path)
    command = [executable("infracast-server"), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path)]
    if damage is unreadable and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root ignores file modes and setpriv is not here to drop that")
        command = AS_AN_ORDINARY_USER + command
    before = sorted(p.name for p in tmp_path.iterdir())

    ended = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert ended.returncode != 0, ended.stderr
    assert "Traceback" not in ended.stderr, ended.stderr
    errors = [line for line in ended.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, ended.stderr
    assert str(path) in errors[0] and complaint in errors[0], errors[0]
    assert "backup" in errors[0] or "access" in errors[0], errors[0]
    assert path.exists() and name in [p.name for p in tmp_path.iterdir()]
    assert set(before) <= {p.name for p in tmp_path.iterdir()}


def test_a_sample_log_damaged_past_its_header_stops_the_server_once_it_is_read(tmp_path):
    """Opening reads the header and the small tables; damage in the logged batches shows
    only in the replay, after the server listens: the same one line, no teardown noise."""
    path = tmp_path / "samples.sqlite"
    connection = sqlite3.connect(path)
    connection.executescript(sample_log.SCHEMA)
    connection.executemany("INSERT INTO batches (data) VALUES (?)", [(os.urandom(50_000),)] * 20)
    connection.commit()
    connection.close()
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(b"\xff" * 200_000)

    ended = subprocess.run([executable("infracast-server"), "--listen", "127.0.0.1:0",
                            "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)

    assert ended.returncode != 0, ended.stderr
    assert "listening on" in ended.stderr  # the damage was found in the replay, not at open
    assert "Traceback" not in ended.stderr and "never awaited" not in ended.stderr, ended.stderr
    errors = [line for line in ended.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and f"{path} is not a usable SQLite database" in errors[0], ended.stderr
    assert path.exists()
