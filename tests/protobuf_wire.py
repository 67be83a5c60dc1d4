"""Protobuf's wire format written by hand, for tests that send bytes the generated code
would not (unpacked numbers, unknown fields, cut or corrupt messages)."""

from __future__ import annotations


def varint(value: int) -> bytes:
    """A base-128 varint; a negative value as protobuf writes an int64, in ten bytes
    (its two's complement)."""
    value %= 2**64
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(tag: int, body: bytes) -> bytes:
    """A length-delimited field: its tag byte, the body's length and the body."""
    return bytes([tag]) + varint(len(body)) + body
