"""infracast node agent: samples host metrics and streams them to the server."""

# The distribution's version (pyproject.toml), kept here so the agent need not import
# importlib.metadata (about 2 MiB of RSS) to say it; tests/agent check that they agree.
__version__ = "0.1.0"
