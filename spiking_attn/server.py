"""A resident command server: ``spiking-attn serve`` keeps brian2 and the rest imported and runs the
``spiking-attn`` commands that this user's ``spiking-attn`` entry point (:mod:`spiking_attn.launch`) hands it.

A fresh ``spiking-attn run`` spends most of a small problem's time importing (about 2 s); handed to a running
server it spends about 0.5 s in all. The command runs exactly as it would have run in the client: in the client's
folder, with the client's standard input, output and error (passed over the socket), the same parser, checks and
exit code; Ctrl-C in the client interrupts it. It is handed over only if the server runs the same interpreter and
version of spiking_attn with the same environment (:data:`spiking_attn.workers.ENVIRONMENT`: the build cache, the
compiler...); otherwise, or with no server, the client runs the command itself. One command runs at a time; the
server stops after ``--idle`` seconds without a command, on Ctrl-C or SIGTERM, and removes its socket.

The socket (``$SPIKING_ATTN_SERVER``, else ``spiking-attn-UID.sock`` in ``$XDG_RUNTIME_DIR`` or the temporary
folder) is readable and writable by its user only.
"""
import json
import os
import signal
import socket
import stat
import sys
import threading

from .errors import InputError
from .workers import environment, run_with_descriptors, server_address

IDLE_SECONDS = 3600.0
MESSAGE_BYTES = 1 << 20
SERVER_LOST = 1  # the client's exit code when the server went away in the middle of its command


def forward(argv):
    """Run ``spiking-attn ARGV`` in this user's server, with this process's input, output and error; its exit
    code, or None when no server of this environment listens (then the caller runs it)."""
    address = server_address()
    if not os.path.exists(address):
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(address)
        request = {"argv": list(argv), "cwd": os.getcwd(), "environment": environment()}
        socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        replies = connection.makefile("r")
        if json.loads(replies.readline() or "false") is not True:
            return None  # a server of another environment (or one that is stopping)
        try:
            line = replies.readline()
        except KeyboardInterrupt:
            connection.sendall(b"interrupt\n")
            line = replies.readline()
    except OSError:
        return None
    finally:
        connection.close()
    if not line:  # the server was killed while it ran the command: its staged results were never put in place
        print(f"spiking-attn: error: the command server at {address} stopped before the command finished; nothing "
              "half-written was put in place; run the command again", file=sys.stderr)
        return SERVER_LOST
    return json.loads(line)["returncode"]


def _claim(address):
    """Make way for a server at ``address``: refuse if one answers there; remove a dead server's socket (a socket
    file of this user, nothing else)."""
    if not os.path.lexists(address):
        return
    status = os.lstat(address)
    if not stat.S_ISSOCK(status.st_mode) or status.st_uid != os.getuid():
        raise InputError(f"{address} is in the way of the server's socket and is not one of yours; set "
                         "SPIKING_ATTN_SERVER to another path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(address)
        raise InputError(f"a spiking-attn server already listens at {address}")
    except ConnectionRefusedError:
        os.remove(address)  # a socket of ours that no server listens on any more
    finally:
        probe.close()


def serve_commands(main, idle_seconds=IDLE_SECONDS, announce=print):
    """Listen at :func:`spiking_attn.workers.server_address` and run the commands handed over, one at a time, with
    ``main(argv)``, until ``idle_seconds`` pass without one, Ctrl-C or SIGTERM; returns the exit code (0)."""
    import gc

    address = server_address()
    _claim(address)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)  # the socket: this user only
    try:
        listener.bind(address)
    finally:
        os.umask(mask)
    bound = os.lstat(address).st_ino
    listener.listen(16)
    listener.settimeout(idle_seconds)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    # Ctrl-C (here, or handed over by a client) raises KeyboardInterrupt: Python's own handler, whatever the server
    # was started with (a background job of a script ignores SIGINT; brian2 installs a handler that chains to it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    gc.freeze()  # the imported modules stay: the commands' collections scan only their own objects
    announce(f"spiking-attn: serving commands at {address} (pid {os.getpid()}); stops after {idle_seconds:g} s "
             "without one, or on Ctrl-C")
    own = environment()
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                break
            with connection:
                _handle(main, connection, own, announce)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        if os.path.lexists(address) and os.lstat(address).st_ino == bound:
            os.remove(address)  # the socket this server made (not one a later server put there)
    return 0


def _handle(main, connection, own, announce):
    """One command: refused (the client runs it) unless its environment is the server's."""
    message, descriptors, _, _ = socket.recv_fds(connection, MESSAGE_BYTES, 3)
    try:
        request = json.loads(message.decode())
        if request.get("environment") != own or len(descriptors) != 3:
            connection.sendall(b"false\n")
            return
        connection.sendall(b"true\n")
        returncode = _run_in(main, request, descriptors, connection)
        announce(f"spiking-attn: {' '.join(request['argv'][:1])} in {request['cwd']}: exit {returncode}")
        connection.sendall(json.dumps({"returncode": returncode}).encode() + b"\n")
    except (OSError, ValueError, KeyError):
        pass  # the client went away (or sent nothing we can read): nothing to answer
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def _run_in(main, request, descriptors, connection):
    """Run the request's command in its folder with its descriptors; an ``interrupt`` from the client raises
    KeyboardInterrupt in it, as Ctrl-C would, and so does the client going away (killed: its command stops as it
    would have stopped in the client, with nothing half-written put in place)."""
    running = threading.Event()
    running.set()

    def interrupt():
        if running.is_set():
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def watch():
        try:
            for line in connection.makefile("r"):
                if line.strip() == "interrupt":
                    interrupt()
        except OSError:
            pass
        interrupt()  # the connection closed: the client is gone (a client that got its answer closes it later)

    threading.Thread(target=watch, daemon=True).start()
    here = os.getcwd()
    try:
        try:
            os.chdir(request["cwd"])
            return run_with_descriptors(main, request["argv"], dict(zip((0, 1, 2), descriptors)))
        finally:
            running.clear()
            os.chdir(here)
    except KeyboardInterrupt:  # an interrupt that arrived as the command ended: the server goes on
        os.chdir(here)
        return 130
    except OSError:
        return 1
