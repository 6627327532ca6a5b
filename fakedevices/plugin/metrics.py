"""Prometheus metrics of the plugin: prepare/unprepare latency, errors, prepared claims."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class PluginMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "drafarm_plugin_request_seconds",
            "Latency of NodePrepareResources / NodeUnprepareResources calls",
            ["operation"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
            registry=self.registry,
        )
        self.errors = Counter(
            "drafarm_plugin_claim_errors_total",
            "Claims whose prepare or unprepare failed",
            ["operation"],
            registry=self.registry,
        )
        self.claim_reads = Counter(
            "drafarm_plugin_claim_reads_total",
            "Claims a prepare read, by source: the watch's cache, or a GET from the API server",
            ["source"],
            registry=self.registry,
        )
        self.prepared = Gauge(
            "drafarm_plugin_prepared_claims", "Claims currently prepared on this node", registry=self.registry
        )


METRICS = PluginMetrics()
