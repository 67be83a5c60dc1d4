"""infracast node agent: samples host metrics and streams them to the server."""
