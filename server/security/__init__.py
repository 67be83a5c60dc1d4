"""Who may call and how much: bearer tokens, Kubernetes token review, rate limits and how
many RPCs run at once."""
