"""Helpers of the tests that kill a Dask worker in the middle of a point (tests/test_sweep.py,
tests/test_transformer.py)."""
import os
import signal
import time


def processes():
    """pid -> (parent pid, command line) of every process on this machine (Linux)."""
    found = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline, open(f"/proc/{name}/stat") as stat:
                found[int(name)] = (int(stat.read().rsplit(")", 1)[1].split()[1]), cmdline.read().split(b"\0"))
        except (OSError, ValueError, IndexError):
            continue
    return found


def warm_workers_of(scheduler):
    """pid -> Dask worker pid of the warm workers (`python -m spiking_attn.cli worker`) of the Dask workers whose
    nanny (`dask worker ADDRESS`) serves ``scheduler``: this test's, not another's running at the same time."""
    table = processes()
    nannies = {pid for pid, (_, command) in table.items() if scheduler.encode() in command and b"worker" in command}
    return {pid: parent for pid, (parent, command) in table.items()
            if b"spiking_attn.cli" in command and b"--reply-fd" in command and table.get(parent, (0,))[0] in nannies}


def kill_the_dask_worker_in_the_middle_of_a_point(process, scheduler):
    """Wait until a point runs in a warm worker of the scheduler's Dask worker, kill that Dask worker with SIGKILL
    (its nanny starts another) and return the warm worker's pid."""
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        busy = warm_workers_of(scheduler)
        points = [name for parent in busy.values() for name in os.listdir(os.environ.get("TMPDIR", "/tmp"))
                  if name.startswith(f"spiking-attn-point-{parent}-")]
        if points:
            (warm, parent), = busy.items()
            time.sleep(0.5)  # into the point
            os.kill(parent, signal.SIGKILL)
            return warm
        time.sleep(0.05)
    raise AssertionError("no point started")
