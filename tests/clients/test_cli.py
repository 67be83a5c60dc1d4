"""The infracast CLI as a user runs it: a real process against a real server."""

import json
import re
import subprocess
import time

import numpy as np
import pytest

from tests.conftest import executable, free_port
from tests.integration.feed import feed_series

NOW_MS = int(time.time() * 1000)


def cli(*args, server=None):
    prefix = ["--server", server.address] if server is not None else []
    return subprocess.run([executable("infracast"), *prefix, *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def fed(server):
    times = NOW_MS - 60_000 * np.arange(180)[::-1]
    # A disk losing 1 GiB a minute from 500 GiB: it reaches 0 about 320 minutes after the last sample.
    avail = (500 - np.arange(180)) * 1024.0**3
    feed_series(server.address, "cli-node", "node_filesystem_avail_bytes", {"mountpoint": "/"}, times, avail)
    feed_series(server.address, "cli-node", "node_load1", {}, times, 1 + 0.1 * np.sin(np.arange(180) / 10))
    return server


def test_series_table_and_json(fed):
    table = cli("series", '{node="cli-node"}', server=fed)
    assert table.returncode == 0, table.stderr
    assert "SERIES" in table.stdout
    assert 'node_filesystem_avail_bytes{mountpoint="/",node="cli-node"}' in table.stdout
    assert "GiB" in table.stdout
    listed = json.loads(cli("series", "--json", server=fed).stdout)
    assert {s["metric"] for s in listed["series"]} == {"node_filesystem_avail_bytes", "node_load1"}
    assert all(s["sample_count"] == 180 for s in listed["series"])


def test_forecast_table_and_json(fed):
    table = cli("forecast", 'node_load1{node="cli-node"}', "--horizon", "2h", server=fed)
    assert table.returncode == 0, table.stderr
    assert "80% INTERVAL" in table.stdout and "95% INTERVAL" in table.stdout and "model:" in table.stdout
    answer = json.loads(cli("forecast", 'node_load1{node="cli-node"}', "--horizon", "30m", "--level", "90",
                            "--json", server=fed).stdout)
    assert len(answer["mean"]) == 30 and [i["level"] for i in answer["intervals"]] == [90.0]
    assert answer["step_seconds"] == 60.0


def test_when_the_disk_runs_out(fed):
    selector = 'node_filesystem_avail_bytes{node="cli-node",mountpoint="/"}'
    answer = json.loads(cli("when", selector, "--threshold", "0", "--below", "--json", server=fed).stdout)
    assert answer["will_cross"]
    assert answer["time_remaining_seconds"] == pytest.approx(321 * 60, rel=0.05)
    assert answer["earliest"] <= answer["expected"]
    table = cli("when", selector, "--threshold", "0", "--below", server=fed)
    assert "falls to 0 B in 5h" in table.stdout
    never = cli("when", selector, "--threshold", str(600 * 1024.0**3), server=fed)
    assert never.returncode == 0 and "does not reach" in never.stdout


def test_health(server):
    table = cli("health", server=server)
    assert table.returncode == 0 and table.stdout.count("SERVING") == 3
    answer = json.loads(
        cli("health", "--json", "--service", "infracast.v1.ForecastService", server=server).stdout)
    assert answer["services"] == {"infracast.v1.ForecastService": "SERVING"}
    unknown = cli("health", "--service", "no.such.Service", server=server)
    assert unknown.returncode == 1 and "SERVICE_UNKNOWN" in unknown.stdout


def test_errors_are_one_clear_line_and_a_nonzero_exit(fed):
    missing = cli("forecast", 'node_load1{node="ghost"}', server=fed)
    assert missing.returncode == 1
    assert missing.stderr.startswith("infracast: error: no series matches")
    assert "Traceback" not in missing.stderr
    bad = cli("forecast", 'node_load1{node="cli-node"}', "--horizon", "soon", server=fed)
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def test_an_unreachable_server_is_reported_plainly():
    port = free_port()
    result = subprocess.run([executable("infracast"), "--server", f"127.0.0.1:{port}", "--timeout", "3s",
                             "series"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot reach the infracast server at 127.0.0.1:{port}" in result.stderr


def test_anomalies_reports_a_spike_as_one_event_and_says_when_history_is_short(server):
    rng = np.random.default_rng(0)
    values = 10 + rng.normal(0, 0.5, 400)
    values[-10:-5] = 30  # a five-minute burst: one episode, not five alarms
    times = NOW_MS - 60_000 * np.arange(400)[::-1]
    feed_series(server.address, "short", "node_load1", {}, times[:100], values[:100])
    short = cli("anomalies", 'node_load1{node="short"}', server=server)
    assert short.returncode == 0, short.stderr
    assert "not enough history yet" in short.stdout and "100 of the 150 samples" in short.stdout

    feed_series(server.address, "spiky", "node_load1", {}, times, values)
    answer = json.loads(cli("anomalies", 'node_load1{node="spiky"}', "--window", "30m", "--json",
                            server=server).stdout)
    assert answer["enough_history"] and len(answer["scores"]) == 30
    (event,) = answer["events"]
    assert event["value"] == 30 and event["expected_high"] < 30 and event["peak_score"] >= 0.4
    assert [s["value"] for s in answer["scores"] if s["anomalous"]] == [30]
    table = cli("anomalies", 'node_load1{node="spiky"}', "--sensitivity", "low-fp", server=server)
    assert table.returncode == 0 and "1 anomalous episode" in table.stdout and "EXPECTED" in table.stdout
    bad = cli("anomalies", 'node_load1{node="spiky"}', "--threshold", "-1", server=server)
    assert bad.returncode == 1 and "threshold must be an anomaly score in (0, 1]" in bad.stderr


def test_when_reports_the_probability_and_the_model_explains_itself(fed):
    selector = 'node_filesystem_avail_bytes{node="cli-node",mountpoint="/"}'
    answer = json.loads(cli("when", selector, "--threshold", "0", "--below", "--json", server=fed).stdout)
    assert answer["probability"] > 0.9
    # 3 hours of history reach 15 hours ahead, not the 7 days asked: the answer says so.
    assert answer["reach_limited"] and answer["searched_seconds"] == pytest.approx(5 * 179 * 60, rel=0.05)
    reason = answer["model"]["reason"]
    assert "looks 14h" in reason and "of history lets a forecast see" in reason
    assert abs(answer["time_remaining_seconds"] - 320 * 60) < 120
    text = cli("when", selector, "--below", "0", server=fed).stdout
    assert re.search(r"falls to 0 B in 5h 2[01]m", text) and "probability within 14h" in text
    assert "history is too short to see further" in text


def test_status_reports_components_counts_and_configuration(fed):
    table = cli("status", server=fed)
    assert table.returncode == 0, table.stderr
    assert "store" in table.stdout and "engine" in table.stdout and "ingest" in table.stdout
    answer = json.loads(cli("status", "--json", server=fed).stdout)
    assert answer["components"]["engine"]["state"] == "ready"
    assert answer["counts"]["series"] == 2 and answer["counts"]["samples_stored"] == 360
    assert answer["configuration"]["INFRACAST_MAX_LABELS"] == "32"
    assert answer["version"] and answer["uptime_seconds"] >= 0


def test_output_into_a_closed_pipe_is_not_an_error(fed):
    # `head -c 0` exits at once: every write of the CLI meets a closed pipe, as at the end of
    # `infracast ... --json | head` when the answer is longer than head reads.
    selector = 'node_load1{node="cli-node"}'
    command = (f"'{executable('infracast')}' --server {fed.address} forecast '{selector}' "
               "--horizon 6h --json | head -c 0")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.stderr == ""


def test_every_command_takes_output_table_json_csv(fed):
    import csv
    import io

    selector = 'node_filesystem_avail_bytes{node="cli-node",mountpoint="/"}'
    listed = list(csv.DictReader(io.StringIO(cli("series", "-o", "csv", server=fed).stdout)))
    assert {row["series"] for row in listed} == {selector.replace('node="cli-node",mountpoint="/"',
                                                                  'mountpoint="/",node="cli-node"'),
                                                 'node_load1{node="cli-node"}'}
    assert all(row["samples"] == "180" for row in listed)
    points = list(csv.DictReader(io.StringIO(
        cli("forecast", 'node_load1{node="cli-node"}', "--horizon", "30m", "--output", "csv",
            server=fed).stdout)))
    assert len(points) == 30 and set(points[0]) == {"timestamp", "mean", "lower_80", "upper_80", "lower_95",
                                                     "upper_95"}
    assert all(float(p["lower_95"]) <= float(p["mean"]) <= float(p["upper_95"]) for p in points)
    crossing = list(csv.DictReader(io.StringIO(cli("when", selector, "--below", "0", "-o", "csv",
                                                   server=fed).stdout)))
    assert len(crossing) == 1 and crossing[0]["will_cross"] == "true"
    assert abs(float(crossing[0]["time_remaining_seconds"]) - 320 * 60) < 600
    # --json stays the same as --output json.
    assert (json.loads(cli("health", "--json", server=fed).stdout)
            == json.loads(cli("health", "-o", "json", server=fed).stdout))
    for command in (["status"], ["health"], ["anomalies", 'node_load1{node="cli-node"}']):
        for fmt in ("table", "json", "csv"):
            result = cli(*command, "--output", fmt, server=fed)
            assert result.returncode == 0 and result.stdout.strip(), (command, fmt, result.stderr)
            if fmt == "json":
                json.loads(result.stdout)
            if fmt == "csv":
                assert "," in result.stdout.splitlines()[0]
    bad = cli("series", "--output", "yaml", server=fed)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_help_has_an_example_for_every_command():
    from infracast.clients.cli import build_parser
    from infracast.clients.commands.completion import _subcommands

    commands = _subcommands(build_parser({}))
    assert {"series", "forecast", "when", "anomalies", "status", "health", "plot", "top", "demo",
            "completion"} <= set(commands)
    for name in commands:
        result = subprocess.run([executable("infracast"), name, "--help"], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        examples = result.stdout.split("examples:", 1)
        assert len(examples) == 2, f"{name} --help has no examples"
        assert f"infracast {name}" in examples[1] or f" {name}" in examples[1], name


def test_bash_completion_completes_commands_and_options():
    script = subprocess.run([executable("infracast"), "completion", "bash"], capture_output=True, text=True,
                            timeout=60).stdout

    def complete(*words):
        words_line = "COMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + f"); COMP_CWORD={len(words) - 1}"
        probe = script + "\n" + words_line + "; _infracast; printf '%s\\n' \"${COMPREPLY[@]}\""
        result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
        return result.stdout.split()

    assert complete("infracast", "fo") == ["forecast"]
    assert set(complete("infracast", "")) >= {"plot", "top", "when", "completion", "--server"}
    assert "--horizon" in complete("infracast", "plot", "--ho")
    assert complete("infracast", "series", "--output", "c") == ["csv"]
    assert complete("infracast", "completion", "f") == ["fish"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completion_scripts_parse(shell):
    import shutil

    script = subprocess.run([executable("infracast"), "completion", shell], capture_output=True, text=True,
                            timeout=60)
    assert script.returncode == 0 and "infracast" in script.stdout and "forecast" in script.stdout
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: the script's syntax cannot be checked")
    checked = subprocess.run([shell, "-n"], input=script.stdout, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


@pytest.fixture
def silent_server():
    """A socket that accepts connections and never answers: every call waits for its deadline.
    (Only the CLI's waiting is under test here, not a server.)"""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_slow_call_spins_on_a_terminal_and_is_silent_when_piped(silent_server):
    from tests.clients.terminal import TMUX, Terminal

    piped = subprocess.run([executable("infracast"), "--server", silent_server, "--timeout", "2s", "series"],
                           capture_output=True, text=True, timeout=60)
    assert piped.returncode == 1 and piped.stdout == ""
    assert piped.stderr.count("\n") == 1 and piped.stderr.startswith("infracast: error:")  # no spinner frames
    if TMUX is None:
        pytest.skip("tmux is not installed: the spinner cannot be looked at through a real terminal")
    terminal = Terminal([executable("infracast"), "--server", silent_server, "--timeout", "8s", "series"])
    try:
        spinning = terminal.wait_for(lambda s: f"asking {silent_server}…" in s, timeout_s=30)
        assert any(frame in spinning for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), spinning
        done = terminal.wait_for(lambda s: "COMMAND-EXITED" in s, timeout_s=30)
        assert "asking" not in done and "infracast: error:" in done  # the spinner is gone
    finally:
        terminal.close()


@pytest.mark.parametrize("command", [["completion", "bash"], ["series", "-o", "csv"], ["top", "-o", "json"]])
def test_output_into_a_closed_pipe_ends_quietly(fed, command):
    # The same rule main follows for every command: `infracast ... | head` is how pipes end.
    line = " ".join(f"'{word}'" for word in [executable("infracast"), "--server", fed.address, *command])
    result = subprocess.run(["bash", "-c", f"{line} | head -c 0; echo ${{PIPESTATUS[0]}}"],
                            capture_output=True, text=True, timeout=60)
    assert result.stderr == "" and result.stdout.strip() in ("0", "141"), result


def test_series_show_the_declared_type_and_unit_in_every_output(server):
    import csv
    import io

    from infracast.v1 import ingest_pb2, series_pb2

    times = NOW_MS - 60_000 * np.arange(10)[::-1]
    hello = ingest_pb2.Hello(node="typed-node", agent_id="typed", metrics=[series_pb2.MetricDescriptor(
        metric="app_heap", type=series_pb2.METRIC_TYPE_GAUGE, unit="bytes", help="Heap in use.")])
    feed_series(server.address, "typed-node", "app_heap", {}, times, [3 * 1024.0**2] * 10, hello=hello)
    feed_series(server.address, "typed-node", "app_queue", {}, times, [1.0] * 10)  # described by nobody
    table = cli("series", '{node="typed-node"}', server=server)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["SERIES", "TYPE", "UNIT"]
    by_metric = {row.split()[0].split("{")[0]: row.split() for row in rows if row.startswith("app_")}
    assert by_metric["app_heap"][1:3] == ["gauge", "bytes"] and "3.0 MiB" in " ".join(by_metric["app_heap"])
    assert by_metric["app_queue"][1:3] == ["-", "-"]
    listed = {s["metric"]: s for s in json.loads(cli("series", '{node="typed-node"}', "-o", "json",
                                                      server=server).stdout)["series"]}
    assert (listed["app_heap"]["type"], listed["app_heap"]["unit"], listed["app_heap"]["help"]) == (
        "gauge", "bytes", "Heap in use.")
    assert (listed["app_queue"]["type"], listed["app_queue"]["unit"]) == ("", "")
    rows = {row["series"]: row for row in csv.DictReader(io.StringIO(
        cli("series", '{node="typed-node"}', "-o", "csv", server=server).stdout))}
    assert (rows['app_heap{node="typed-node"}']["type"], rows['app_heap{node="typed-node"}']["unit"]) == (
        "gauge", "bytes")


@pytest.fixture
def declared(server):
    """Two metrics whose names mislead: a counter without the _total suffix, and a gauge of
    bytes whose name ends in _total (and not _bytes)."""
    from infracast.v1 import ingest_pb2, series_pb2

    times = NOW_MS - 60_000 * np.arange(240)[::-1]
    hello = ingest_pb2.Hello(node="meaning-node", agent_id="meaning", metrics=[
        series_pb2.MetricDescriptor(metric="app_faults", type=series_pb2.METRIC_TYPE_COUNTER),
        series_pb2.MetricDescriptor(metric="app_cache_total", type=series_pb2.METRIC_TYPE_GAUGE,
                                    unit="bytes")])
    # 50 faults a second, steadily; a cache shrinking from 400 GiB by 1 GiB a minute.
    feed_series(server.address, "meaning-node", "app_faults", {}, times, 3000.0 * np.arange(240), hello=hello)
    cache = (400 - np.arange(240) + np.random.default_rng(5).normal(0, 0.2, 240)) * 1024.0**3
    feed_series(server.address, "meaning-node", "app_cache_total", {}, times, cache, hello=hello)
    return server


def test_when_anomalies_and_plot_use_the_declared_type_and_unit_not_the_name(declared):
    faults, cache = 'app_faults{node="meaning-node"}', 'app_cache_total{node="meaning-node"}'
    rate = cli("when", faults, "--above", "1000", server=declared)
    assert rate.returncode == 0, rate.stderr
    assert re.search(r"now 50(\.0*)?/s", rate.stdout) and "reach 1000/s" in rate.stdout, rate.stdout
    shrinking = cli("when", cache, "--below", "0", server=declared)
    assert shrinking.returncode == 0, shrinking.stderr
    assert re.search(r"now 16\d\.\d GiB\n", shrinking.stdout) and "falls to 0 B in" in shrinking.stdout, \
        shrinking.stdout
    fleet = cli("when", "app_cache_total", "--below", "0", "--within", "30d", server=declared)
    assert fleet.returncode == 0 and "GiB" in fleet.stdout and "/s" not in fleet.stdout, fleet.stdout
    anomalies = cli("anomalies", cache, "--window", "3h", "--all", server=declared)
    assert anomalies.returncode == 0, anomalies.stderr
    assert "GiB" in anomalies.stdout and "/s" not in anomalies.stdout, anomalies.stdout
    chart = cli("plot", cache, "--horizon", "2h", "--width", "100", "--height", "25", server=declared)
    assert chart.returncode == 0, chart.stderr
    assert "GiB" in chart.stdout and "/s" not in chart.stdout, chart.stdout
    counter_chart = cli("plot", faults, "--horizon", "2h", "--width", "100", "--height", "25",
                        server=declared)
    assert counter_chart.returncode == 0, counter_chart.stderr
    assert "faults/s" in counter_chart.stdout, counter_chart.stdout


def test_when_over_a_selector_of_labels_only_leaves_the_threshold_without_a_unit(declared):
    # Nothing crosses, so no answer says what the series are; their metrics differ (one
    # counter, one in bytes), and none of their units may be lent to the threshold.
    nothing = cli("when", '{node="meaning-node"}', "--above", "1000000000000000", "--within", "1h",
                  server=declared)
    assert nothing.returncode == 0, nothing.stderr
    header = nothing.stdout.splitlines()[0]
    assert "reach" in header and "B " not in header and "/s" not in header, nothing.stdout
