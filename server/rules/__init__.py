"""Forecast rules evaluated on a schedule into Prometheus series (/metrics and remote write)."""
