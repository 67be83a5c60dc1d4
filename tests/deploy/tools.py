"""Finding the outside tools the deployment tests drive."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def tool(name: str, env_var: str | None = None) -> str:
    """The tool's path: from env_var, beside this interpreter, or on PATH. Missing, it skips
    the test on a developer's machine and fails it in CI (.ci/run installs every tool)."""
    found = (os.environ.get(env_var) if env_var else None) or shutil.which(
        name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not found:
        missing(f"{name} is not installed")
    return found


def missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI must run this check (.ci/run installs it)")
    pytest.skip(f"{reason} here")
