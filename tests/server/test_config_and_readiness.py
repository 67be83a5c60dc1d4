import asyncio
import math
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from infracast.server.config import load_config
from infracast.server.readiness import READINESS_SERVICES, Readiness
from infracast.server.series import SeriesKey


def test_flags_win_over_environment_over_defaults():
    env = {"INFRACAST_LISTEN": "127.0.0.1:6000", "INFRACAST_GRACE_PERIOD": "30s"}
    config = load_config(["--grace-period", "5s"], env)
    assert config.listen == "127.0.0.1:6000"
    assert config.grace_period_s == 5.0
    assert load_config([], env).grace_period_s == 30.0
    assert load_config(["--data-dir", "/tmp/x"], {}).data_dir == Path("/tmp/x")


@pytest.mark.parametrize(("argv", "env", "says"), [
    (["--listen", "nohost"], {}, "--listen must be HOST:PORT"),
    (["--listen", "h:99999"], {}, "--listen must be HOST:PORT"),
    (["--grace-period", "soon"], {}, "not a duration"),
    ([], {"INFRACAST_RETENTION": "-1h"}, "INFRACAST_RETENTION"),
    (["--forecast-workers", "0"], {}, "at least 1"),
])
def test_bad_settings_stop_with_a_message_naming_them(argv, env, says, capsys):
    with pytest.raises(SystemExit) as exited:
        load_config(argv, env)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_readiness_follows_the_lifecycle():
    async def statuses(readiness):
        result = {}
        for name in ("", *READINESS_SERVICES):
            response = await readiness.servicer.Check(health_pb2.HealthCheckRequest(service=name), None)
            result[name] = response.status
        return result

    async def lifecycle():
        readiness = Readiness()
        await readiness.starting()
        starting = await statuses(readiness)
        await readiness.ready()
        ready = await statuses(readiness)
        await readiness.stopping()
        return starting, ready, await statuses(readiness)

    starting, ready, stopping = asyncio.run(lifecycle())
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    assert starting == {"": serving, **dict.fromkeys(READINESS_SERVICES, not_serving)}
    assert set(ready.values()) == {serving}
    assert set(stopping.values()) == {not_serving}


def test_value_ranges_follow_the_unit():
    assert SeriesKey.of("infracast_node_cpu_utilization_ratio").value_range == (0.0, 1.0)
    assert SeriesKey.of("node_memory_MemAvailable_bytes").value_range == (0.0, math.inf)
    assert SeriesKey.of("node_network_receive_bytes_total").value_range == (0.0, math.inf)
    assert SeriesKey.of("node_load1").value_range == (-math.inf, math.inf)
