"""The committed Python stubs describe exactly what the .proto files say.

Compares the file descriptors protoc builds from proto/ now with those embedded
in the committed *_pb2.py modules; regenerate with `python proto/generate.py`.
"""

import importlib
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = sorted([*(ROOT / "proto" / "infracast" / "v1").glob("*.proto"),
                 *(ROOT / "proto" / "infracast" / "keda").glob("*.proto")])


def without_json_names(messages) -> None:
    # protoc records json_name in descriptor sets but not in the stubs it generates.
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        without_json_names(message.nested_type)


@pytest.mark.parametrize("proto", PROTOS, ids=lambda p: p.name)
def test_committed_stubs_match_the_proto(proto, tmp_path):
    import grpc_tools

    descriptor_set = tmp_path / "set.pb"
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    relative = proto.relative_to(ROOT / "proto")
    assert protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{well_known}",
                        f"--descriptor_set_out={descriptor_set}", str(relative)]) == 0
    built = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file[0]
    without_json_names(built.message_type)
    package = f"infracast.{proto.parent.name}"
    module = importlib.import_module(f"{package}.{proto.stem}_pb2")
    committed = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    assert committed == built, f"stubs for {proto.name} are stale: run python proto/generate.py"
    grpc_module = proto.parent / f"{proto.stem}_pb2_grpc.py"
    assert grpc_module.exists()
