"""The CLI's commands, one module each; every module has `register(commands)`."""
