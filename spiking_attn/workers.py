"""Warm worker processes: a child process that keeps brian2 imported and runs command after command.

A fresh ``spiking-attn run`` spends most of a small point's time importing brian2, pandas and matplotlib
(1.5–3 s) before a simulation of a tenth of a second. A sweep's points (and the encoder's texts on Dask)
therefore run in a :class:`WarmWorker`: a child ``python -m spiking_attn.cli worker`` that imports
everything once and then runs each command line it is sent in-process, exactly as ``spiking-attn`` would
(same parser, same checks, same exit codes), with its standard output and error sent to a file per command.

Crash isolation is kept: a command that kills its worker (a segmentation fault, the out-of-memory killer, a
``kill -9``) ends only that worker; the command is reported with the signal, and the next command starts a
fresh worker.

Protocol (one JSON object per line): the parent writes ``{"argv": [...], "output": PATH}`` to the child's
standard input; the child answers on the pipe whose descriptor it was given with ``{"returncode": N,
"peak_memory_mb": M}``. End of input ends the child.
"""
import contextlib
import json
import os
import subprocess
import sys
import threading


class WarmWorker:
    """A child process that runs ``spiking-attn`` command lines one after another, started on first use and
    restarted after a crash."""

    def __init__(self):
        self.process = None
        self.replies = None

    def start(self):
        """Start the child (it imports while the caller goes on; the first command waits for it)."""
        read, write = os.pipe()
        self.process = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", "worker", "--reply-fd", str(write)],
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(write,),
                                        text=True)
        os.close(write)
        self.replies = os.fdopen(read)

    def run(self, argv, output):
        """Run ``spiking-attn ARGV`` in the worker, its standard output and error written to ``output``.

        Returns
        -------
        returncode : int
            The command's exit code, or minus the signal that killed the worker.
        peak_memory_mb : float or None
            Largest resident set of the worker during the command, or of a simulation binary it ran so far
            (None after a crash).
        """
        if self.process is not None and self.process.poll() is not None:
            self.close()  # it died between commands
        if self.process is None:
            self.start()
        try:
            self.process.stdin.write(json.dumps({"argv": list(argv), "output": output}) + "\n")
            self.process.stdin.flush()
            line = self.replies.readline()
        except BrokenPipeError:
            line = ""
        if not line:  # the worker died during the command
            returncode = self.process.wait()
            self.close()
            return returncode if returncode < 0 else -9, None
        reply = json.loads(line)
        return reply["returncode"], reply["peak_memory_mb"]

    def close(self):
        """End the worker (it finishes nothing: call between commands)."""
        if self.process is not None:
            try:
                self.process.stdin.close()  # end of input: a live worker ends its loop
            except BrokenPipeError:
                pass
            self.process.wait()
            self.replies.close()
        self.process = self.replies = None


_IDLE = []  # this process's warm workers not running a command
_LOCK = threading.Lock()


@contextlib.contextmanager
def warm_worker():
    """An idle warm worker of this process, or a new one (a Dask worker with several threads runs one per busy
    thread), handed back when the block ends."""
    with _LOCK:
        worker = _IDLE.pop() if _IDLE else WarmWorker()
    try:
        yield worker
    finally:
        with _LOCK:
            _IDLE.append(worker)


def prewarm(count=1):
    """Start warm workers in this process until ``count`` are idle, so that their imports overlap with what comes
    before the first command (a Dask cluster's start)."""
    with _LOCK:
        while len(_IDLE) < count:
            worker = WarmWorker()
            worker.start()
            _IDLE.append(worker)


def peak_memory_mb():
    """The largest resident set (MB) of this process since :func:`reset_peak_memory`, or of any child it
    waited for (the simulation binaries), whichever is larger."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    try:
        with open("/proc/self/status") as status:
            own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max(own, children)


def reset_peak_memory():
    """Start this process's peak resident set afresh (Linux; elsewhere the peak stays the lifetime's)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


def serve(main, requests, reply_fd):
    """The worker's loop: run ``main(argv)`` for each request line of ``requests``, with file descriptors 1 and 2
    (so also the simulation binaries' output) sent to the request's output file; answer on ``reply_fd``."""
    import gc

    gc.freeze()  # the imported modules are permanent: later collections scan only the commands' objects
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()
    with os.fdopen(reply_fd, "w") as replies:
        for line in requests:
            request = json.loads(line)
            reset_peak_memory()
            with open(request["output"], "w") as output:
                returncode = run_with_descriptors(main, request["argv"], {1: output.fileno(), 2: output.fileno()})
            replies.write(json.dumps({"returncode": returncode, "peak_memory_mb": peak_memory_mb()}) + "\n")
            replies.flush()
    return 0


def _end_with_parent(parent, period=0.2):
    """End this worker, and the simulation it runs, as soon as its parent is gone (a Dask worker killed in the
    middle of a point): the point is then run again elsewhere, and must not also be finished here."""
    import signal
    import time

    while os.getppid() == parent:
        time.sleep(period)
    for child in _descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def _descendants(pid):
    """The processes below ``pid`` (Linux: read from /proc; elsewhere none)."""
    parents = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{name}/stat") as stat:
                    parents[int(name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _flush_or_discard(stream):
    """Flush ``stream``; when its descriptor's reader is gone (a killed client's pipe), discard what it holds, so
    that none of it reaches the descriptor put back after the command."""
    try:
        stream.flush()
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
        stream.flush()


def run_with_descriptors(main, argv, descriptors):
    """``main(argv)``'s exit code, with this process's file descriptors (0, 1, 2) replaced by ``descriptors``
    ({number: descriptor}) meanwhile; a traceback (a bug) goes to descriptor 2 and exits 1, as from a process."""
    import traceback

    sys.stdout.flush()
    sys.stderr.flush()
    saved = {number: os.dup(number) for number in descriptors}
    for number, descriptor in descriptors.items():
        os.dup2(descriptor, number)
    try:
        return main(argv)
    except SystemExit as exit:  # argparse's usage errors
        return exit.code if isinstance(exit.code, int) else 1
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            _flush_or_discard(stream)
        for number, descriptor in saved.items():
            os.dup2(descriptor, number)
            os.close(descriptor)


# --- the command server (`spiking-attn serve`) -----------------------------------------------------------------

# What a command's result depends on beyond its arguments and folder: a command is handed to a server only if these
# are the same in the client and in the server.
ENVIRONMENT = ("SPIKING_ATTN_CACHE", "XDG_CACHE_HOME", "HOME", "CXX", "PATH", "OMP_NUM_THREADS", "MPLBACKEND")


def server_address():
    """The Unix socket of this user's command server: $SPIKING_ATTN_SERVER, else in $XDG_RUNTIME_DIR (or the
    temporary folder)."""
    import tempfile

    if os.environ.get("SPIKING_ATTN_SERVER"):
        return os.path.abspath(os.environ["SPIKING_ATTN_SERVER"])
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return os.path.join(base, f"spiking-attn-{os.getuid()}.sock")


def environment():
    """The client's or the server's :data:`ENVIRONMENT`, interpreter and package version."""
    from .version import __version__

    return {"python": sys.executable, "version": __version__, **{name: os.environ.get(name) for name in ENVIRONMENT}}
