"""placeholder"""


def register(commands):
    return None
