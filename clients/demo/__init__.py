"""infracast demo: server, a real agent and a simulated fleet on one machine."""
