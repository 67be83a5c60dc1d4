"""How the server reports on itself: OpenTelemetry metrics and traces, and the counters its services keep."""
