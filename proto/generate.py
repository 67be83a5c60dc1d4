"""Regenerate the Python stubs in proto/infracast/v1 (our API) and proto/infracast/keda
(KEDA's external scaler contract) from the .proto files.

Run after editing any .proto:  python proto/generate.py
The stubs are committed so a clone installs without a code generator;
tests/test_stubs_match_protos.py fails when they drift from the .proto files.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
PROTO_FILES = sorted([*PROTO_ROOT.glob("infracast/v1/*.proto"), *PROTO_ROOT.glob("infracast/keda/*.proto")])


def protoc_args(out_dir: Path) -> list[str]:
    """Arguments for grpc_tools.protoc that write all stubs under out_dir."""
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    return [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(path) for path in PROTO_FILES),
    ]


def generate(out_dir: Path = PROTO_ROOT) -> None:
    from grpc_tools import protoc

    if protoc.main(protoc_args(out_dir)) != 0:
        raise SystemExit("protoc failed; see the messages above")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT)
