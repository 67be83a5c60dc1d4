"""Type-check the installed packages as mypy sees them: mypy cannot follow setuptools'
package-dir mapping (server/ -> infracast.server, ...), so build the `infracast` tree it would
install out of symlinks in a temporary folder and check it there.

Usage: python .ci/mypy.py [extra mypy arguments]
"""

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Ours to check; the generated stubs (infracast.v1, infracast.keda) are only followed.
CHECKED = ("infracast.common", "infracast.server", "infracast.agent", "infracast.clients")


def main() -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_dirs = pyproject["tool"]["setuptools"]["package-dir"]
    with tempfile.TemporaryDirectory(prefix="infracast-mypy-") as tree:
        namespace = Path(tree, "infracast")
        namespace.mkdir()
        for package, folder in package_dirs.items():
            # Only the top of each mapping: sub-packages come with their folder.
            (namespace / package.removeprefix("infracast.")).symlink_to(ROOT / folder)
        packages = [arg for name in CHECKED for arg in ("-p", name)]
        command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                   *packages, *sys.argv[1:]]
        return subprocess.run(command, cwd=tree).returncode


if __name__ == "__main__":
    sys.exit(main())
