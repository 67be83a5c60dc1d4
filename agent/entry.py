"""The infracast-agent command: the agent, started without Python's OpenSSL binding.

asyncio imports `ssl` when it is imported, for TLS transports the agent never opens (grpc
brings its own TLS), and `ssl` maps OpenSSL's libssl and libcrypto: 4.3 MiB of the agent's
RSS. So asyncio is imported first with `ssl` unavailable; a later `import ssl` (reading the
Node in a pod) works as usual, only asyncio's own TLS transports stay unavailable.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def import_asyncio_without_ssl() -> None:
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return  # too late (an embedding process): nothing to save
    sys.modules["ssl"] = None  # type: ignore[assignment]  # makes `import ssl` raise ImportError
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]


def main(argv: Sequence[str] | None = None) -> None:
    import_asyncio_without_ssl()
    from infracast.agent.main import main as run_agent

    run_agent(argv)


if __name__ == "__main__":
    main()
