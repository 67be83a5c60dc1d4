"""gRPC plumbing every service shares: request decoding, the one mapping of domain errors
to statuses, response streams as generators."""
