"""The ``spiking-attn`` entry point: hands the command to this user's running ``spiking-attn serve``
(:mod:`spiking_attn.server`: brian2 already imported there), else runs it here (:mod:`spiking_attn.cli`).

Only light modules are imported before that choice, so a handed-over command costs no import of brian2.
``SPIKING_ATTN_NO_SERVER=1`` runs every command here.
"""
import os
import sys

from .server import forward


def main():
    argv = sys.argv[1:]
    if argv[:1] != ["serve"] and not os.environ.get("SPIKING_ATTN_NO_SERVER"):
        returncode = forward(argv)
        if returncode is not None:
            return returncode
    from .cli import main as run_here

    return run_here()


if __name__ == "__main__":
    sys.exit(main())
