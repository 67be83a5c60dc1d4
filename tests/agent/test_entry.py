"""The infracast-agent command imports the agent without OpenSSL's Python binding, and a
later `import ssl` (reading the Node in a pod) still works."""

import subprocess
import sys

CHECK = """
import sys
from infracast.agent.entry import import_asyncio_without_ssl
import_asyncio_without_ssl()
import infracast.agent.main
from infracast.agent.identity import agent_id
agent_id("n1")
maps = open("/proc/self/maps").read()
print("ssl" in sys.modules, "_hashlib" in sys.modules, "libssl" in maps, "libcrypto" in maps)
import ssl
ssl.create_default_context()
print("ssl ok")
"""


def test_the_agent_command_leaves_openssl_out_until_asked():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["False False False False", "ssl ok"]
