"""The layer between the forecast engine and an RPC's answer (no grpc, no protobuf).

It owns what makes a forecast an answer an operator can act on:
  resolution  near steps at the data's own interval, coarser far out (resolution.py);
  reach       how far the history lets a forecast see (resolution.py);
  limits      what the metric can physically be, from its meaning and its siblings (limits.py);
  outlook     the tiers' forecasts joined, clipped to the limits for display, the
              unclipped distribution kept for probabilities (outlook.py);
  crossings   when a threshold is reached and how likely (crossing.py);
  aggregates  sum / avg / max / min over many series before forecasting (aggregate.py).
"""
