"""The fleet the server knows: nodes from agents and from the cluster, and the agents' open streams."""
