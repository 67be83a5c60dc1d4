"""Reading /proc/<pid>/smaps: which compiler pages may be dropped (the rest stays)."""

from infracast.server.forecast.compiler_memory import mappings, resident_compiler_bytes

SMAPS = """\
7f0000000000-7f0000100000 r-xp 00000000 08:01 42                         /opt/my venv/lib/libllvmlite.so
Size:               1024 kB
Rss:                 512 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me
7f0000100000-7f0000101000 r--p 00100000 08:01 42                         /opt/my venv/lib/libllvmlite.so
Rss:                   4 kB
Anonymous:             4 kB
Swap:                  0 kB
7f0000101000-7f0000102000 rw-p 00101000 08:01 42                         /opt/my venv/lib/libllvmlite.so
Rss:                   4 kB
Anonymous:             0 kB
Swap:                  0 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                 132 kB
"""


def test_only_unwritable_mappings_without_private_pages_count_as_droppable(tmp_path):
    smaps = tmp_path / "smaps"
    smaps.write_text(SMAPS)
    code, relocated, data, stack = mappings(smaps)
    assert code.path == "/opt/my venv/lib/libllvmlite.so" and code.kib["Rss"] == 512
    assert code.only_file_pages  # read-only code, nothing private: a copy of the file
    assert not relocated.only_file_pages  # relocated by the loader: private pages
    assert not data.only_file_pages  # writable
    assert stack.path == "[stack]" and stack.start == 0x7FFD00000000
    assert resident_compiler_bytes(smaps) == (512 + 4 + 4) * 1024
