import pytest

from infracast.agent.config import load_config


def test_defaults_environment_and_flags():
    config = load_config([], {"NODE_NAME": "k8s-node", "INFRACAST_SERVER": "srv:1"})
    assert (config.node, config.server, config.interval_s) == ("k8s-node", "srv:1", 10.0)
    config = load_config(["--node", "n9", "--interval", "500ms", "--collectors", "cpu,load"], {})
    assert (config.node, config.interval_s, config.collectors) == ("n9", 0.5, ("cpu", "loadavg"))


@pytest.mark.parametrize(("argv", "says"), [
    (["--interval", "fast"], "not a duration"),
    (["--interval", "2h"], "not between 100ms and 1h"),
    (["--collectors", "cpu,gpu"], "unknown collector(s) gpu"),
    (["--max-buffered-batches", "0"], "0 is outside 1..1000000"),
    (["--buffer-max-size", "1KiB"], "below the minimum of 64KiB"),
])
def test_bad_settings_stop_with_a_message(argv, says, capsys):
    with pytest.raises(SystemExit) as exited:
        load_config(argv, {})
    assert exited.value.code == 2 and says in capsys.readouterr().err


def test_the_agent_states_the_distributions_version():
    from importlib.metadata import version

    from infracast.agent import __version__
    assert __version__ == version("infracast")
