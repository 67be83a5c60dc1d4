"""Finding key forms among those a stream sent before (key_kernels, KnownKeys)."""

import numpy as np

from infracast.server.services.key_kernels import EMPTY, find_keys, insert_entries, key_hashes


def table_of(forms: list[bytes], size: int = 16) -> tuple:
    stored = np.frombuffer(b"".join(forms), dtype=np.uint8)
    ends = np.cumsum([len(form) for form in forms], dtype=np.int64)
    starts = ends - np.array([len(form) for form in forms], dtype=np.int64)
    hashes = key_hashes(stored, np.stack([starts, ends], axis=1))
    table = np.full(size, EMPTY, dtype=np.int64)
    insert_entries(table, hashes, 0)
    return table, hashes, stored, starts, ends


def find(request: bytes, spans: list[tuple[int, int]], table) -> list[int]:
    return find_keys(np.frombuffer(request, dtype=np.uint8), np.array(spans, dtype=np.int64).reshape(-1, 2),
                     *table).tolist()


def test_forms_are_found_where_they_sit_in_a_request_and_others_are_not():
    forms = [b"alpha", b"beta", b"", b"gamma-delta"]
    table = table_of(forms)
    request = b"xxbetayyalphazgamma-deltaalphx"
    spans = [(2, 6), (8, 13), (14, 25), (0, 0), (25, 29), (3, 6)]
    assert find(request, spans, table) == [1, 0, 3, 2, EMPTY, EMPTY]
    assert find(request, [], table) == []


def test_an_equal_hash_is_not_enough_the_bytes_must_be_equal():
    _, hashes, stored, starts, ends = table_of([b"alpha", b"beta"])
    # Make both entries carry the hash of "beta": a lookup of "alpha" must still tell them apart.
    forged = np.array([hashes[1], hashes[1]], dtype=np.uint64)
    collided = np.full(16, EMPTY, dtype=np.int64)
    insert_entries(collided, forged, 0)
    assert find(b"beta", [(0, 4)], (collided, forged, stored, starts, ends)) == [1]
    assert find(b"alpha", [(0, 5)], (collided, forged, stored, starts, ends)) == [EMPTY]


def test_a_full_probe_chain_wraps_around_the_table():
    forms = [bytes([65 + i]) for i in range(7)]
    table = table_of(forms, size=8)  # 7 of 8 places taken: chains wrap past the end
    request = b"".join(forms) + b"Z"
    assert find(request, [(i, i + 1) for i in range(8)], table) == [*range(7), EMPTY]
