"""What metrics mean: their type (gauge or counter), unit and help, as senders declare them.

`descriptors` is the domain value and the counter rule; `registry` holds the descriptors in
memory (made durable by infracast.server.store.metadata_log when there is a data directory).
"""
