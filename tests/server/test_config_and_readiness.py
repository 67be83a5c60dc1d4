import asyncio
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from infracast.common.settings import env_example
from infracast.server.config import SETTINGS, load_config
from infracast.server.health.readiness import READINESS_SERVICES, Readiness


def test_flags_win_over_environment_over_defaults():
    env = {"INFRACAST_LISTEN": "127.0.0.1:6000", "INFRACAST_GRACE_PERIOD": "30s"}
    config = load_config(["--grace-period", "5s"], env)
    assert config.listen == "127.0.0.1:6000"
    assert config.grace_period_s == 5.0
    assert load_config([], env).grace_period_s == 30.0
    assert load_config(["--data-dir", "/tmp/x"], {}).data_dir == Path("/tmp/x")


@pytest.mark.parametrize(("argv", "env", "says"), [
    (["--listen", "nohost"], {}, "--listen: 'nohost' is not HOST:PORT"),
    (["--listen", "h:99999"], {}, "is not HOST:PORT with a port 0-65535"),
    (["--grace-period", "soon"], {}, "--grace-period: 'soon' is not a duration"),
    ([], {"INFRACAST_RETENTION": "-1h"}, "INFRACAST_RETENTION: '-1h' is not a duration"),
    (["--forecast-workers", "0"], {}, "--forecast-workers: 0 is outside 1..256"),
    ([], {"INFRACAST_LISTNE": "x:1"}, "unknown setting INFRACAST_LISTNE"),
    ([], {"INFRACAST_PROFILE": "staging"}, "'staging' is not one of development, production, testing"),
    (["--profile", "production"], {}, "production profile refuses to serve without TLS"),
    ([], {"INFRACAST_LOG_FORMAT": "xml"}, "INFRACAST_LOG_FORMAT: 'xml' is not one of text, json"),
    ([], {"INFRACAST_MAX_MESSAGE_SIZE": "lots"}, "'lots' is not a size"),
    ([], {"INFRACAST_AGENT_SERVICE_ACCOUNT": "infracast-agent"}, "expected NAMESPACE/NAME of a service"),
    ([], {"INFRACAST_AGENT_SERVICE_ACCOUNT": "Infra/agent"}, "expected NAMESPACE/NAME"),
    (["--agent-service-account", "infracast/agent"], {}, "needs INFRACAST_TOKENS_FILE too"),
])
def test_bad_settings_stop_with_a_message_naming_them(argv, env, says, capsys):
    with pytest.raises(SystemExit) as exited:
        load_config(argv, env)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_profiles_change_defaults_and_print_config_shows_the_result(capsys):
    assert load_config([], {}).listen == "127.0.0.1:50051"  # development: loopback only
    assert load_config(["--profile", "testing"], {}).grace_period_s == 1.0
    production = load_config([], {"INFRACAST_PROFILE": "production", "INFRACAST_ALLOW_INSECURE": "true"})
    assert (production.listen, production.log_format) == ("0.0.0.0:50051", "json")
    assert str(production.data_dir) == "/var/lib/infracast"
    with pytest.raises(SystemExit) as exited:
        load_config(["--print-config", "--max-series", "5"], {"INFRACAST_LOG_LEVEL": "debug"})
    assert exited.value.code == 0
    printed = capsys.readouterr().out.splitlines()
    assert "INFRACAST_MAX_SERIES=5" in printed and "INFRACAST_LOG_LEVEL=debug" in printed
    assert len(printed) == len(SETTINGS) + 1


def test_env_examples_list_every_setting_with_its_default():
    from infracast.agent import config as agent_config

    root = Path(__file__).resolve().parents[2]
    assert (root / ".env.example").read_text() == env_example("infracast-server settings", SETTINGS)
    assert (root / "agent.env.example").read_text() == env_example(
        "infracast-agent settings", agent_config.SETTINGS)


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

