"""Health and status: liveness and readiness for probes, the Status RPC's report, and
the kernel warm-up's progress."""
