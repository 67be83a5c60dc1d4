"""The forecast engine: numba kernels and the Python layer that chooses and runs models.

Nothing here imports grpc or protobuf, so the engine can be used without a server.
"""
