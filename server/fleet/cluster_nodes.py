"""Lists the cluster's nodes now and then, so the server can tell which have no agent."""

from __future__ import annotations

import logging
import threading
from typing import Any

from infracast.server.fleet.nodes import NodeRegistry

log = logging.getLogger(__name__)


class ClusterNodeLister:
    """A daemon thread: GET /api/v1/nodes every `interval_s`, names into the registry.

    A failure is logged when it starts and when it ends, not on every attempt; the last
    good list stays in place meanwhile.
    """

    def __init__(self, api: Any, registry: NodeRegistry, interval_s: float = 60.0) -> None:
        self._api = api
        self._registry = registry
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cluster-nodes", daemon=True)
        self.error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def refresh(self) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            nodes = self._api.list_node(_request_timeout=15)
        except (ApiException, OSError) as error:
            message = (f"{error.status} {error.reason}" if isinstance(error, ApiException)
                       else str(error))
            if self.error is None:
                log.warning("cannot list the cluster's nodes (%s); retrying every %.0fs",
                            message, self._interval_s)
            self.error = message
            return
        if self.error is not None:
            log.info("listing the cluster's nodes works again")
        self.error = None
        self._registry.set_cluster_nodes(frozenset(node.metadata.name for node in nodes.items))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self._interval_s)
