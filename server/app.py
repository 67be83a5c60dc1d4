"""Build the server (create_server) apart from running it (serve), so tests start a
real server on localhost:0 in-process and the entry point adds only signals."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.metadata import version

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from infracast.common.kubernetes_api import connect
from infracast.keda import externalscaler_pb2, externalscaler_pb2_grpc
from infracast.server.answers.predictions import Predictor
from infracast.server.config import ServerConfig
from infracast.server.fleet.cluster_nodes import ClusterNodeLister
from infracast.server.fleet.nodes import NodeRegistry
from infracast.server.forecast.compiler_memory import release_compiler_pages
from infracast.server.forecast.warm_up import warm_up_kernels
from infracast.server.health.readiness import Readiness
from infracast.server.health.status import Component, State, StatusReport
from infracast.server.health.warm_up_progress import WarmUpProgress
from infracast.server.metadata.registry import MetricRegistry
from infracast.server.rpc.error_mapping import ErrorMappingInterceptor
from infracast.server.rpc.write_streams import WriteStreamsAsGenerators
from infracast.server.rules.definitions import load_rules
from infracast.server.rules.evaluator import RuleEvaluator
from infracast.server.rules.exposition import RuleResultsCollector
from infracast.server.rules.replicas import ReplicaSet
from infracast.server.security.auth import AuthInterceptor, TokenStore
from infracast.server.security.concurrency import ConcurrencyLimitInterceptor
from infracast.server.security.rate_limit import RateLimitInterceptor, TokenBuckets
from infracast.server.security.token_review import (
    REVIEW_BURST,
    REVIEWS_PER_SECOND,
    TokenReviewer,
    kubernetes_review,
)
from infracast.server.services.forecast import ForecastServicer
from infracast.server.services.ingest import IngestServicer, add_ingest_service
from infracast.server.services.keda import ExternalScalerServicer
from infracast.server.services.push_validation import IngestLimits
from infracast.server.services.status import StatusServicer
from infracast.server.store.embedded import EmbeddedStore
from infracast.server.store.memory import MemoryLimits, MemoryStore
from infracast.server.store.metadata_log import MetadataLog
from infracast.server.store.prometheus import PrometheusStore, PromQLReach
from infracast.server.store.tsdb_http import TsdbEndpoint, TsdbHttp
from infracast.server.telemetry.export import Telemetry
from infracast.server.telemetry.stats import ServerStats
from infracast.v1 import (
    forecast_pb2,
    forecast_pb2_grpc,
    ingest_pb2,
    status_pb2,
    status_pb2_grpc,
)

log = logging.getLogger(__name__)

MAX_SEND_BYTES = 64 * 1024 * 1024  # answers are ours; a 30-day forecast stays far below
MAX_CONNECTION_AGE_MS = 30 * 60 * 1000


@dataclass
class App:
    """A built server and the parts its lifecycle needs."""

    config: ServerConfig
    server: aio.Server
    port: int
    store: MemoryStore | EmbeddedStore | PrometheusStore
    readiness: Readiness
    ingest: IngestServicer
    predictor: Predictor
    executor: ThreadPoolExecutor
    stats: ServerStats
    health_server: aio.Server | None = None
    auth: AuthInterceptor | None = None
    telemetry: Telemetry | None = None
    metrics_port: int | None = None
    nodes: NodeRegistry = field(default_factory=NodeRegistry)
    cluster: ClusterNodeLister | None = None
    cluster_how: str = ""
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    store_ready: bool = False
    engine_seconds: float | None = None
    token_watch: asyncio.Task | None = None
    rules: RuleEvaluator | None = None
    warm_up: WarmUpProgress = field(default_factory=WarmUpProgress)
    metadata: MetricRegistry = field(default_factory=MetricRegistry)

    @property
    def address(self) -> str:
        host = self.config.listen.rpartition(":")[0]
        if host in ("0.0.0.0", "[::]", "::", ""):
            host = "127.0.0.1"
        return f"{host}:{self.port}"

    async def start(self) -> None:
        """Serve at once (liveness answers), then warm up and flip readiness."""
        await self.readiness.starting()
        if self.health_server is not None:
            await self.health_server.start()
        await self.server.start()
        log.info("infracast server listening on %s", self.address)
        if self.auth is not None:
            auth = self.auth  # streams whose token a new tokens file revokes end at once
            self.token_watch = asyncio.create_task(
                auth.watch_tokens(lambda: self.ingest.live.end_revoked(auth.revocation)))
        if self.telemetry is not None and self.config.metrics_listen:
            self.metrics_port = self.telemetry.serve(self.config.metrics_listen)
            log.info("metrics on http://%s:%d/metrics", self.config.metrics_listen.rpartition(":")[0],
                     self.metrics_port)
        # Importing the Kubernetes client and reading its configuration take a moment.
        await asyncio.to_thread(self._watch_cluster)
        if isinstance(self.store, EmbeddedStore):
            self._report_store_writes(self.store)
            await self.store.open()  # readiness stays NOT_SERVING until the replay is done
        elif isinstance(self.store, PrometheusStore):
            log.info("store: Prometheus-compatible TSDB at %s (remote write to %s)",
                     self.store.http.endpoint.url, self.store.http.endpoint.remote_write_url)
        else:
            log.warning("no --data-dir: samples are kept in memory only and lost on restart")
        self.store_ready = True
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        warming = loop.run_in_executor(self.executor, warm_up_kernels, self.warm_up)
        await self.warm_up.log_until_done(warming)
        await warming
        self.engine_seconds = time.perf_counter() - started
        release_compiler_pages()
        # What exists now (replayed series, compiled kernels) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise stall the event loop
        # for a long time once there are hundreds of thousands of series.
        gc.collect()
        gc.freeze()
        await self.readiness.ready()
        if self.rules is not None:
            self.rules.start()
        log.info("infracast server ready")

    def _report_store_writes(self, store: EmbeddedStore) -> None:
        """IngestService readiness follows whether the log's commits succeed."""
        loop = asyncio.get_running_loop()
        changes: set[asyncio.Task] = set()  # kept until done (the loop holds tasks weakly)

        def changed(writable: bool) -> None:  # in the writer thread
            def flip() -> None:
                task = loop.create_task(self.readiness.store_writable(writable))
                changes.add(task)
                task.add_done_callback(changes.discard)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to tell
                loop.call_soon_threadsafe(flip)

        store.log.health.on_change = changed

    def _watch_cluster(self) -> None:
        connection = connect(self.config.kubernetes)
        self.cluster_how = connection.how
        if self.config.agent_service_account and self.auth is not None:
            if connection.api is None:
                raise OSError(
                    f"INFRACAST_AGENT_SERVICE_ACCOUNT needs the Kubernetes API, but {connection.how}")
            reviews = TokenBuckets(REVIEWS_PER_SECOND, REVIEW_BURST)
            self.auth.reviewer = TokenReviewer(kubernetes_review(connection.api.api_client),
                                               self.config.agent_service_account,
                                               limit=lambda: reviews.take("token reviews"))
            log.info("agents authenticate with %s tokens (TokenReview)", self.config.agent_service_account)
        if connection.api is None:
            if self.config.kubernetes == "on":
                raise OSError(f"INFRACAST_KUBERNETES=on but {connection.how}")
            log.info("not listing cluster nodes: %s", connection.how)
            return
        log.info("listing the cluster's nodes (%s)", connection.how)
        self.cluster = ClusterNodeLister(connection.api, self.nodes)
        self.cluster.start()

    async def stop(self, grace_s: float | None = None) -> None:
        """Graceful stop: readiness off, refuse new streams, let RPCs finish, close the store."""
        grace = self.config.grace_period_s if grace_s is None else grace_s
        await self.readiness.stopping()
        if self.token_watch is not None:
            self.token_watch.cancel()
        self.ingest.drain()
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(0)
        if self.rules is not None:
            await self.rules.stop()
        self.ingest.close()
        await self.store.close()
        self.metadata.close()
        if self.cluster is not None:
            self.cluster.stop()
        if self.telemetry is not None:
            self.telemetry.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        log.info("infracast server stopped")


    def report(self) -> StatusReport:
        """The Status RPC's answer, from the parts' own states and counters."""
        stopping = self.ingest.draining
        store = self.store
        if not self.store_ready:
            store_state, store_detail = State.STARTING, "replaying the log"
        elif isinstance(store, EmbeddedStore):
            store_state, store_detail = _embedded_store_state(store)
        elif isinstance(store, PrometheusStore):
            store_state = State.READY
            cached = store.cache_stats
            store_detail = (f"Prometheus-compatible TSDB at {store.http.endpoint.url}: "
                            f"{store.series_count} series written by this replica; windows read "
                            f"{cached.full_reads} whole, {cached.tail_reads} by their tail, "
                            f"{cached.hits} from the cache; remote write retried {store.writer.retries} "
                            f"times, {store.writer.dropped_samples} samples refused by the TSDB")
        else:
            store_state = State.READY
            store_detail = f"in memory only (no data directory): {store.series_count} series"
        warm = self.warm_up.state
        engine = (Component("engine", State.STARTING, f"warming up numba kernels: {warm.done}/{warm.total} "
                            f"steps done, now {warm.step}, {warm.elapsed_s:.0f}s")
                  if self.engine_seconds is None else
                  Component("engine", State.READY, f"kernels loaded in {self.engine_seconds:.1f}s"))
        ingest = Component("ingest", State.STOPPING if stopping else State.READY,
                           f"{self.stats.active_streams} agent streams open")
        cache = self.predictor.cache.stats
        counts = {
            "series": float(store.series_count),
            "metrics_described": float(len(self.metadata)),
            **{f"descriptors_refused_{reason}": float(n) for reason, n in self.metadata.refusals.items()},
            "active_streams": float(self.stats.active_streams),
            "batches_stored": float(self.stats.batches_stored),
            "samples_stored": float(self.stats.samples_stored),
            "samples_skipped": float(self.stats.samples_skipped),
            "batches_rejected": float(sum(self.stats.rejected_batches.values())),
            "forecasts": float(sum(self.stats.forecasts.values())),
            "forecast_cache_hits": float(cache.answer_hits),
            "forecast_refreshes": float(cache.refreshes),
            "forecast_refits": float(cache.refits),
        }
        if isinstance(store, EmbeddedStore):
            counts["store_failed_commits"] = float(store.log.health.failed_commits)
        kubernetes = self._kubernetes_component()
        configuration = {f"INFRACAST_{name.upper()}": "" if value is None else str(value)
                         for name, value in asdict(self.config).items()}
        return StatusReport(
            version=version("infracast"), profile=self.config.profile, started_ms=self.started_ms,
            uptime_s=time.time() - self.started_ms / 1000,
            components=[Component("store", State.STOPPING if stopping else store_state, store_detail),
                        engine, ingest, kubernetes],
            counts=counts, configuration=configuration, nodes=self.nodes.snapshot())

    def _kubernetes_component(self) -> Component:
        if self.cluster is None:
            return Component("kubernetes", State.READY, f"not listing nodes: {self.cluster_how}")
        if self.cluster.error is not None:
            return Component("kubernetes", State.DEGRADED,
                             f"cannot list the cluster's nodes: {self.cluster.error}")
        missing = self.nodes.without_agent()
        if missing is None:
            return Component("kubernetes", State.STARTING, "listing the cluster's nodes")
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            return Component("kubernetes", State.DEGRADED,
                             f"{len(missing)} of {self.nodes.cluster_size} nodes have no agent: {shown}")
        return Component("kubernetes", State.READY, f"all {self.nodes.cluster_size} nodes have an agent")


def _embedded_store_state(store: EmbeddedStore) -> tuple[State, str]:
    health = store.log.health
    held = f"embedded at {store.log.directory}: {store.series_count} series"
    if health.commit_error is not None:
        failing_s = time.monotonic() - (health.failing_since or time.monotonic())
        return State.DEGRADED, (f"{held}; commits failing for {failing_s:.0f}s "
                                f"({health.failed_commits} failed in all): {health.commit_error}; "
                                "ingest answers UNAVAILABLE until a commit succeeds")
    if health.compaction_error is not None:
        return State.DEGRADED, f"{held}; compaction failing: {health.compaction_error}"
    return State.READY, (f"{held}; replayed {store.replayed_samples} samples in "
                         f"{store.replay_seconds:.1f}s")


def server_credentials(config: ServerConfig) -> grpc.ServerCredentials:
    """TLS from the configured files; with a client CA, client certificates per tls_client_auth."""
    assert config.tls_cert is not None and config.tls_key is not None
    client_ca = config.tls_client_ca.read_bytes() if config.tls_client_ca is not None else None
    return grpc.ssl_server_credentials(
        [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())],
        root_certificates=client_ca if config.tls_client_auth != "none" else None,
        require_client_auth=config.tls_client_auth == "required",
    )


def open_store(config: ServerConfig) -> MemoryStore | EmbeddedStore | PrometheusStore:
    if config.store == "prometheus":
        if config.data_dir is not None:
            log.info("INFRACAST_DATA_DIR %s is not used: the TSDB holds the samples", config.data_dir)
        endpoint = TsdbEndpoint(
            config.prometheus_url, config.prometheus_write_url, config.prometheus_bearer_token_file,
            config.prometheus_username, config.prometheus_password_file, config.prometheus_ca,
            config.prometheus_timeout_s)
        reach = PromQLReach(int(config.prometheus_step_s * 1000), int(config.raw_window_s * 1000),
                            int(config.retention_s * 1000))
        return PrometheusStore(TsdbHttp(endpoint), reach, config.prometheus_cache_series)
    limits = MemoryLimits(raw_window_ms=int(config.raw_window_s * 1000),
                          downsampled_window_ms=int(config.retention_s * 1000))
    return MemoryStore(limits) if config.data_dir is None else EmbeddedStore(config.data_dir, limits)


def open_metadata(store: MemoryStore | EmbeddedStore | PrometheusStore,
                  config: ServerConfig) -> MetricRegistry:
    """Metric descriptors: durable beside the embedded store's log (its data directory is
    locked by then), in memory otherwise. With store=prometheus every replica learns them
    from the hellos of the streams it serves (agents send them on every stream)."""
    if not isinstance(store, EmbeddedStore) or config.data_dir is None:
        return MetricRegistry(max_metrics_per_node=config.max_metrics_per_node)
    metadata = MetricRegistry(MetadataLog(config.data_dir), max_metrics_per_node=config.max_metrics_per_node)
    log.info("%d metric descriptors loaded from %s", metadata.replay(), config.data_dir)
    return metadata


def create_server(config: ServerConfig, telemetry: Telemetry | None = None) -> App:
    store = open_store(config)
    if isinstance(store, EmbeddedStore):
        store.acquire()  # before binding the port: a second server must fail, not half-start
    executor = ThreadPoolExecutor(config.forecast_workers, thread_name_prefix="forecast")
    telemetry = telemetry or Telemetry(version("infracast"), config.otlp_endpoint)
    # grpc's own maximum_concurrent_rpcs is not set: it would refuse health checks too.
    interceptors: list[aio.ServerInterceptor] = [
        telemetry.server_interceptor(),
        ConcurrencyLimitInterceptor(config.max_streams, config.max_concurrent_rpcs)]
    auth = None
    if config.tokens_file is not None:
        auth = AuthInterceptor(TokenStore(config.tokens_file), bool(config.agent_service_account))
        interceptors.append(auth)
    if config.rate_limit > 0:
        interceptors.append(RateLimitInterceptor(
            TokenBuckets(config.rate_limit, max(config.rate_limit_burst, 1.0))))
    interceptors.append(ErrorMappingInterceptor())
    interceptors.append(WriteStreamsAsGenerators())  # innermost: see its docstring
    server = aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", config.max_message_bytes),
            ("grpc.max_send_message_length", MAX_SEND_BYTES),
            # Long-lived agent streams are closed (gracefully) now and then so that they
            # spread over replicas added since they connected.
            ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
            ("grpc.max_connection_age_grace_ms", 30_000),
            # Clients may ping every 10 s without data; faster pings are abuse.
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ],
    )
    limits = IngestLimits(
        max_labels=config.max_labels, max_label_length=config.max_label_length,
        max_metric_name_length=config.max_metric_name_length,
        max_label_name_length=config.max_label_name_length,
        stream_idle_timeout_s=config.stream_idle_timeout_s,
        max_series_per_agent=config.max_series_per_agent, max_series=config.max_series,
        max_future_skew_ms=int(config.max_future_skew_s * 1000),
        retention_ms=int(config.retention_s * 1000))
    stats = ServerStats()
    nodes = NodeRegistry()
    metadata = open_metadata(store, config)
    ingest = IngestServicer(store, limits, stats, nodes, metadata)
    add_ingest_service(ingest, server)
    predictor = Predictor(store, executor, stats=stats, nodes=nodes, metadata=metadata)
    forecast_pb2_grpc.add_ForecastServiceServicer_to_server(ForecastServicer(predictor), server)
    # KEDA's external scaler contract, over the same answers (services/keda.py).
    externalscaler_pb2_grpc.add_ExternalScalerServicer_to_server(ExternalScalerServicer(predictor), server)
    readiness = Readiness()
    health_pb2_grpc.add_HealthServicer_to_server(readiness.servicer, server)
    reflection.enable_server_reflection(
        (
            ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name,
            forecast_pb2.DESCRIPTOR.services_by_name["ForecastService"].full_name,
            status_pb2.DESCRIPTOR.services_by_name["StatusService"].full_name,
            externalscaler_pb2.DESCRIPTOR.services_by_name["ExternalScaler"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = (server.add_secure_port(config.listen, server_credentials(config)) if config.tls
            else server.add_insecure_port(config.listen))
    if port == 0:
        raise OSError(f"cannot listen on {config.listen}")
    health_server = None
    if config.health_listen:
        # kubelet's gRPC probes dial plaintext and call only Check: a port with nothing else
        # but reflection of the health service, so grpcurl works there too.
        health_server = aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(readiness.servicer, health_server)
        reflection.enable_server_reflection(
            (health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            health_server)
        if health_server.add_insecure_port(config.health_listen) == 0:
            raise OSError(f"cannot listen on {config.health_listen}")
    app = App(config, server, port, store, readiness, ingest, predictor, executor, stats, nodes=nodes,
              metadata=metadata)
    app.health_server = health_server
    app.auth = auth
    app.telemetry = telemetry
    durable = store if isinstance(store, EmbeddedStore) else None
    telemetry.observe(stats, predictor.cache, lambda: store.series_count,
                      lambda: durable.log.commits if durable else 0,
                      lambda: durable.log.size_bytes if durable else 0,
                      lambda: durable.log.health.failed_commits if durable else 0,
                      lambda: int(durable is not None and not durable.log.health.writable),
                      metadata.refusals)
    status_pb2_grpc.add_StatusServiceServicer_to_server(StatusServicer(app.report), server)
    if config.rules_file is not None:
        remote = store if isinstance(store, PrometheusStore) else None
        replica = config.replica_name or f"{socket.gethostname()}-{os.getpid()}"
        app.rules = RuleEvaluator(load_rules(config.rules_file), predictor,
                                  ReplicaSet(replica, remote, config.rules_interval_s),
                                  config.rules_interval_s, remote)
        telemetry.registry.register(RuleResultsCollector(app.rules))
    return app
