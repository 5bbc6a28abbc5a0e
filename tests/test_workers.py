"""Warm workers (spiking_attn.workers): one process runs command after command exactly as `spiking-attn`
would, and a command that kills its worker ends only that worker."""
import os
import signal
import threading
import time

import numpy as np

from spiking_attn.workers import WarmWorker


def test_one_worker_runs_commands_in_turn_with_their_exit_codes_and_output(tmp_path):
    worker = WarmWorker()
    try:
        output = str(tmp_path / "output.txt")
        assert worker.run(["problem", str(tmp_path / "p.npz"), "--tokens", "4", "--dim", "4"], output)[0] == 0
        assert np.load(tmp_path / "p.npz")["q"].shape == (4, 4)
        pid = worker.process.pid
        returncode, peak = worker.run(["run", "--tokens", "0"], output)
        assert returncode == 2
        assert (tmp_path / "output.txt").read_text().strip().splitlines()[-1].startswith("spiking-attn: error: ")
        assert worker.run(["no-such-command"], output)[0] == 2  # argparse's exit, caught
        assert worker.process.pid == pid and peak > 10  # the same process all along; its memory is reported
    finally:
        worker.close()


def test_a_command_that_kills_its_worker_fails_alone_and_the_next_gets_a_fresh_worker(tmp_path):
    worker = WarmWorker()
    try:
        output = str(tmp_path / "output.txt")
        assert worker.run(["problem", str(tmp_path / "p.npz"), "--tokens", "4", "--dim", "4"], output)[0] == 0
        pid = worker.process.pid

        def kill_soon():
            time.sleep(1.0)
            os.kill(pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_soon)
        killer.start()
        returncode, peak = worker.run(["run", "--tokens", "4", "--dim", "4", "--duration", "2", "--target", "numpy",
                                       "--out", str(tmp_path / "killed")], output)
        killer.join()
        assert (returncode, peak) == (-signal.SIGKILL, None)
        assert not (tmp_path / "killed").exists()
        assert worker.run(["problem", str(tmp_path / "q.npz"), "--tokens", "4", "--dim", "4"], output)[0] == 0
        assert worker.process.pid != pid and (tmp_path / "q.npz").exists()
    finally:
        worker.close()
