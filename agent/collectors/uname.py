"""node_uname_info: the kernel's identity as labels of a constant 1, as node_exporter sends it."""

from __future__ import annotations

import os

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text


def uname_labels(uname: os.uname_result, domainname: str) -> dict[str, str]:
    return {"domainname": domainname.strip(), "machine": uname.machine, "nodename": uname.nodename,
            "release": uname.release, "sysname": uname.sysname, "version": uname.version}


class UnameCollector:
    name = "uname"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        domainname = read_text(self.paths.proc("sys", "kernel", "domainname"))
        return [Sample("node_uname_info", 1.0, uname_labels(os.uname(), domainname))]
