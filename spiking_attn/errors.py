"""Errors that name a problem with the user's input (the CLI prints them as one line, exit code 2)."""


class InputError(ValueError):
    """An input (problem file, array, option or output path) that cannot be used, with the reason."""
