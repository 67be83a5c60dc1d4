"""Imports go one way: infracast.common at the bottom, the generated API beside it, then the
server, the agent and the client library (none of which imports another), and the demo and
the test helpers on top of everything. Read from the source (every import, those inside
functions too), so an import that only runs on some path is caught as well."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each layer (a package, or a module or package inside one: the longest name wins) and the
# layers it may import besides itself.
MAY_IMPORT = {
    "infracast.common": set(),
    "infracast.v1": set(),
    "infracast.keda": set(),
    "infracast.server": {"infracast.common", "infracast.v1", "infracast.keda"},
    "infracast.agent": {"infracast.common", "infracast.v1"},
    "infracast.clients": {"infracast.common", "infracast.v1"},
    # The CLI's entry point wires the demo in as `infracast demo`.
    "infracast.clients.cli": {"infracast.common", "infracast.v1", "infracast.clients",
                              "infracast.clients.demo"},
    # Above everything: they start a real server and real agents.
    "infracast.clients.testing": {"infracast.common", "infracast.v1", "infracast.keda",
                                  "infracast.server", "infracast.agent", "infracast.clients"},
    "infracast.clients.demo": {"infracast.common", "infracast.v1", "infracast.keda",
                               "infracast.server", "infracast.agent", "infracast.clients"},
}


def layer_of(module: str) -> str | None:
    matches = [name for name in MAY_IMPORT if module == name or module.startswith(name + ".")]
    return max(matches, key=len, default=None)


def our_modules() -> dict[str, Path]:
    """Every module we install, by its import name (the folders as pyproject maps them)."""
    package_dirs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    modules = {}
    for package, folder in package_dirs.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def imported(module: str, path: Path, modules: set[str]) -> set[str]:
    """The infracast modules `module` imports: for `from a import b`, a.b when b is a module,
    else a; relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in names if name.startswith("infracast.")}


def wrong_way_imports(checked: dict[str, Path], known: set[str]) -> list[str]:
    """One line per import in the `checked` modules that goes against MAY_IMPORT."""
    wrong = []
    for module, path in sorted(checked.items()):
        own = layer_of(module)
        assert own is not None, f"{module} belongs to no layer: add its package to MAY_IMPORT"
        for name in sorted(imported(module, path, known)):
            target = layer_of(name)
            if target is not None and target != own and target not in MAY_IMPORT[own]:
                wrong.append(f"{module} ({own}) imports {name} ({target})")
    return wrong


def test_imports_go_one_way():
    modules = our_modules()
    assert wrong_way_imports(modules, set(modules)) == []


def test_the_check_sees_a_wrong_way_import(tmp_path):
    """A server module importing the client library, directly or inside a function, and a
    relative import reaching up out of the agent, are all reported."""
    (tmp_path / "config.py").write_text("from infracast.clients import settings\n")
    (tmp_path / "main.py").write_text("def main():\n    import infracast.agent.shipper\n")
    (tmp_path / "__init__.py").write_text("from ...server import app\n")
    (tmp_path / "fine.py").write_text("from infracast.common.durations import parse_duration\n")
    modules = {"infracast.server.config": tmp_path / "config.py",
               "infracast.server.main": tmp_path / "main.py",
               "infracast.agent.collectors": tmp_path / "__init__.py",
               "infracast.server.fine": tmp_path / "fine.py",
               "infracast.clients.settings": tmp_path / "x.py", "infracast.agent.shipper": tmp_path / "x.py",
               "infracast.server.app": tmp_path / "x.py", "infracast.common.durations": tmp_path / "x.py"}
    assert wrong_way_imports({name: modules[name] for name in modules if "x.py" not in str(modules[name])},
                             set(modules)) == [
        "infracast.agent.collectors (infracast.agent) imports infracast.server.app (infracast.server)",
        "infracast.server.config (infracast.server) imports infracast.clients.settings (infracast.clients)",
        "infracast.server.main (infracast.server) imports infracast.agent.shipper (infracast.agent)",
    ]
