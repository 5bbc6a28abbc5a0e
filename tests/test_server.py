"""The command server (`spiking-attn serve`) and the entry point that hands commands to it (spiking_attn.launch):
a handed-over command runs in the client's folder with the client's output and exit code; another environment,
a second server and Ctrl-C are handled."""
import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.fixture
def server(tmp_path):
    """A running `spiking-attn serve` at a socket of this test; yields (environment for clients, its log path)."""
    environment = {**os.environ, "SPIKING_ATTN_SERVER": str(tmp_path / "server.sock")}
    environment.pop("SPIKING_ATTN_NO_SERVER", None)
    log = tmp_path / "server.log"
    with open(log, "w") as stream:
        process = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", "serve", "--idle", "120"],
                                   env=environment, stdout=stream, stderr=stream)
    deadline = time.time() + 60
    while not (tmp_path / "server.sock").exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert (tmp_path / "server.sock").exists(), log.read_text()
    yield environment, log, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


def client(arguments, environment, cwd, **kwargs):
    return subprocess.run([sys.executable, "-m", "spiking_attn.launch", *arguments], env=environment, cwd=cwd,
                          capture_output=True, text=True, **kwargs)


def test_a_command_handed_to_the_server_runs_in_the_clients_folder_with_its_output(server, tmp_path):
    environment, log, _ = server
    (tmp_path / "work").mkdir()
    done = client(["run", "--target", "numpy", "--tokens", "4", "--dim", "4", "--duration", "0.1", "--no-figure",
                   "--out", "result"], environment, tmp_path / "work")
    assert done.returncode == 0, done.stderr
    assert "row_tv_mean" in done.stdout and "results: result/" in done.stdout  # the client's own output
    assert (tmp_path / "work" / "result" / "summary.json").exists()
    assert f"run in {tmp_path / 'work'}: exit 0" in log.read_text()  # and the server ran it
    bad = client(["run", "--tokens", "0"], environment, tmp_path / "work")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["spiking-attn: error: argument --tokens: must be at least 1, got 0"]


def test_another_environment_runs_the_command_itself_and_a_second_server_is_refused(server, tmp_path):
    environment, log, process = server
    before = log.read_text()
    done = client(["problem", "p.npz", "--tokens", "4", "--dim", "4"], {**environment, "CXX": "g++ -v"}, tmp_path)
    assert done.returncode == 0 and (tmp_path / "p.npz").exists()
    assert log.read_text() == before  # not handed over: the build cache's compiler differs
    second = client(["serve", "--idle", "5"], environment, tmp_path)
    assert second.returncode == 2 and "already listens" in second.stderr
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert not (tmp_path / "server.sock").exists()  # its socket removed on the way out


def test_ctrl_c_in_the_client_interrupts_the_command_in_the_server(server, tmp_path):
    environment, log, _ = server
    command = [sys.executable, "-m", "spiking_attn.launch", "run", "--target", "numpy", "--duration", "60",
               "--out", str(tmp_path / "interrupted")]
    with open(tmp_path / "client.err", "w") as errors:
        running = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=errors)
        deadline = time.time() + 60
        while "Starting simulation" not in (tmp_path / "client.err").read_text() and time.time() < deadline:
            time.sleep(0.2)
        running.send_signal(signal.SIGINT)  # Ctrl-C, once the server simulates
        assert running.wait(timeout=60) == 130
    assert "spiking-attn: interrupted; no results written" in (tmp_path / "client.err").read_text()
    assert not (tmp_path / "interrupted").exists()
    assert client(["problem", "p.npz", "--tokens", "4", "--dim", "4"], environment, tmp_path).returncode == 0
    assert f"problem in {tmp_path}: exit 0" in log.read_text()  # the server goes on after the interrupted command
