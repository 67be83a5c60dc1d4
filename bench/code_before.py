"""Run a benchmark against the store code of an earlier commit, for before/after figures.

    python bench/code_before.py REV bench/store_memory.py [args...]

Extracts REV's server/ and proto/ (git archive) into a temporary folder and runs the
script with infracast.* imported from there, the script itself and bench/ as they are
now (so both sides run the same benchmark). Only the packages under server/ and proto/
are swapped: enough for the store benchmarks, which import nothing else of infracast.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    revision, script, *args = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="infracast-before-") as folder:
        source = Path(folder) / "src"
        source.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "server", "proto"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        package = types.ModuleType("infracast")
        package.__path__ = [str(Path(folder) / "infracast")]
        (Path(folder) / "infracast").mkdir()
        (Path(folder) / "infracast" / "server").symlink_to(source / "server")
        (Path(folder) / "infracast" / "common").symlink_to(source / "proto" / "infracast" / "common")
        (Path(folder) / "infracast" / "v1").symlink_to(source / "proto" / "infracast" / "v1")
        sys.modules["infracast"] = package
        sys.argv = [script, *args]
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
