"""The infracast Python client library and the infracast CLI."""
