"""Errors that name a problem with the user's input (the CLI prints them as one line, exit code 2)."""


class InputError(ValueError):
    """An input (problem file, array, option or output path) that cannot be used, with the reason."""


def exit_on_input_error(main):
    """Run a script's ``main()``; an InputError ends it with one line and exit code 2, Ctrl-C with 130."""
    import os
    import sys

    name = os.path.basename(sys.argv[0])
    try:
        main()
    except InputError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{name}: interrupted; no results written", file=sys.stderr)
        sys.exit(130)
