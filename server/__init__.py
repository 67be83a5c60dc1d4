"""infracast server: ingest, store and forecast host metrics over gRPC."""
