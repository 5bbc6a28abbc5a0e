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


def start_long_run(environment, tmp_path, out):
    """A client handing the server a 60 s numpy run (stdout a pipe, stderr a file); returns it once the server
    simulates."""
    command = [sys.executable, "-m", "spiking_attn.launch", "run", "--target", "numpy", "--duration", "60",
               "--out", str(out)]
    errors = tmp_path / "client.err"
    with open(errors, "w") as stream:
        running = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=stream)
    deadline = time.time() + 60
    while "Starting simulation" not in errors.read_text() and time.time() < deadline:
        time.sleep(0.2)
    assert "Starting simulation" in errors.read_text()
    return running


def test_a_killed_client_stops_its_command_and_the_server_goes_on(server, tmp_path):
    environment, log, _ = server
    running = start_long_run(environment, tmp_path, tmp_path / "orphaned")
    running.kill()  # SIGKILL: the client cannot say anything; its connection and its output pipe close
    running.wait(timeout=30)
    running.stdout.close()
    deadline = time.time() + 60
    while "run in" not in log.read_text() and time.time() < deadline:
        time.sleep(0.2)
    assert f"run in {os.getcwd()}: exit 130" in log.read_text()  # stopped as Ctrl-C would have stopped it
    assert not (tmp_path / "orphaned").exists()
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]
    done = client(["problem", "p.npz", "--tokens", "4", "--dim", "4"], environment, tmp_path)
    assert done.returncode == 0 and f"problem in {tmp_path}: exit 0" in log.read_text()
    assert "interrupted" not in log.read_text()  # the dead client's output went nowhere, not into the server's log


def test_a_server_killed_in_the_middle_of_a_command_leaves_its_client_one_line_and_no_result(server, tmp_path):
    environment, _, process = server
    out = tmp_path / "result"
    running = start_long_run(environment, tmp_path, out)
    process.kill()
    assert running.wait(timeout=60) == 1
    running.stdout.close()
    last = (tmp_path / "client.err").read_text().strip().splitlines()[-1]
    assert last.startswith("spiking-attn: error: the command server at ") and "run the command again" in last
    assert not out.exists()
    again = client(["run", "--target", "numpy", "--tokens", "4", "--dim", "4", "--duration", "0.1", "--no-figure",
                    "--out", str(out)], environment, tmp_path)  # the dead server's socket is passed by
    assert again.returncode == 0, again.stderr
    assert (out / "summary.json").exists()
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]  # the killed server's staging removed
