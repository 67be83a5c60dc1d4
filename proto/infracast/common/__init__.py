"""Code every side of infracast shares: settings read from the environment, durations,
logging setup, the Kubernetes API connection and gRPC channels.

The bottom layer: it imports nothing of ours, and the server, the agent and the client
library all import it (tests/test_layering.py holds every package to its layer). It lives
under proto/infracast beside the generated API, the other code all sides share, because
the top-level folders are fixed and a folder inside server/, agent/ or clients/ would be
importable under that package's name too.
"""
