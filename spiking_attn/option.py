"""Options declared once: what a run option is, how it is parsed and checked.

Each option of ``spiking-attn run`` is one :class:`Option`, declared in the module that uses it (a
circuit's options in the circuit's module, the device options in :mod:`spiking_attn.devices`, the
options of every run in :mod:`spiking_attn.experiment`, the random problem's in
:mod:`spiking_attn.problems`). Everything else is derived from the declaration: the command-line
flag and its help (:meth:`Option.add_to`), the check of a value handed in from Python or a sweep
config (:meth:`Option.check`), the arguments a sweep point passes on (:meth:`Option.argv`), the
options record and the Python API's docstring (:mod:`spiking_attn.experiment`).

An option is parsed in two steps, as a user meets them: the command line's type (a whole number, a
finite or positive number, one of the choices) gives ``argument --flag: ...``, then
:meth:`Option.check` gives the option's own bounds (``seed must be a whole number from 0 to ...``).
"""
import argparse
import math
import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError

KINDS = ("whole", "number", "positive", "seconds", "choice", "flag", "switch", "text")
SWITCH = ("on", "off")
MAX_DURATION = 1e4  # simulated seconds of a read window or a settling time


def positive_int(text):
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def path_argument(text):
    """argparse type: a file or folder path, not empty (an empty ``--out "$UNSET"`` must not mean the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def finite_float(text):
    """argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def positive_float(text):
    """argparse type: a finite number above 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def whole_number(value, label, low, high):
    """``value`` as an int, or InputError unless it is a whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InputError(f"{label} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def positive_seconds(value, label):
    """``value`` as a float, or InputError unless it is a positive number of seconds up to MAX_DURATION."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or value <= 0:
        raise InputError(f"{label} must be a positive number of seconds, got {value!r}")
    if value > MAX_DURATION:
        raise InputError(f"{label} {value:g} s is above the limit of {MAX_DURATION:g} s")
    return float(value)


def _number(value, label, low, high):
    """``value`` as a float, or InputError unless it is a finite number from ``low`` to ``high`` (None:
    unbounded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise InputError(f"{label} must be a finite number, got {value!r}")
    if not (low is None or low <= value) or not (high is None or value <= high):
        raise InputError(f"{label} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _flag(value, label):
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{label} must be True or False, got {value!r}")
    return bool(value)


@dataclass(frozen=True)
class Option:
    """One run option: its name, type and bounds, default, help and unit.

    Attributes
    ----------
    name : str
        The Python name (``key_tokens``); the flag is ``--key-tokens``.
    help : str
        One sentence for ``--help`` and the API's docstring (without the default).
    kind : {'whole', 'number', 'positive', 'seconds', 'choice', 'flag', 'switch', 'text'}
        A whole number from ``low`` to ``high`` (seed, counts); a finite number (from ``low`` to
        ``high``, where given); a number above 0; a positive number of seconds up to MAX_DURATION;
        one of ``choices``; a flag (``--causal``: True or False); a switch (``--astrocyte on|off``:
        True or False); free text (a folder).
    default : object
        The value when not given; None means the user of the option fills it in (a circuit's
        own default, or "does not apply").
    low, high : float
        Bounds of 'whole' and 'number'.
    choices : tuple of str
        The values of 'choice'.
    unit : str
        Unit of the value as given ("s", "mV"), for the help.
    metavar : str
        The value's name in the help (``SEC``).
    label : str
        How messages name the option (default: its name with spaces).
    targets : tuple of str
        The Brian2 targets it applies to (None: all); elsewhere it is refused, or None.
    recorded : bool
        Whether summary.json records its value.
    plugin : bool
        Its choices are plug-ins (astrocyte models): a refusal names the value it chose.
    """

    name: str
    help: str
    kind: str
    default: object = None
    low: float = None
    high: float = None
    choices: tuple = ()
    unit: str = ""
    metavar: str = None
    label: str = None
    targets: tuple = None
    recorded: bool = False
    plugin: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: unknown kind {self.kind!r}")

    @property
    def flag(self):
        """The command-line flag: ``--`` and the name with dashes."""
        return "--" + self.name.replace("_", "-")

    @property
    def what(self):
        """How messages name the option."""
        return self.label or self.name.replace("_", " ")

    def check(self, value):
        """``value`` checked against the declaration and normalised (int, float, bool or str), or
        InputError with one line that names the problem."""
        if self.kind == "whole":
            return whole_number(value, self.what, self.low, math.inf if self.high is None else self.high)
        if self.kind == "number":
            return _number(value, self.what, self.low, self.high)
        if self.kind == "positive":
            value = _number(value, self.what, None, None)
            if value <= 0:
                raise InputError(f"{self.what} must be a positive number, got {value!r}")
            return value
        if self.kind == "seconds":
            return positive_seconds(value, self.what)
        if self.kind == "choice":
            if value not in self.choices:
                raise InputError(f"unknown {self.what} {value!r}; choose one of {', '.join(self.choices)}")
            return value
        if self.kind in ("flag", "switch"):
            return _flag(value, self.what)
        if not isinstance(value, (str, os.PathLike)):
            raise InputError(f"{self.what} must be a text (a folder's name), got {value!r}")
        return os.fspath(value)

    def refused(self, value):
        """How a refusal names the option given ``value``: the flag (and the value of a plug-in)."""
        return f"{self.flag} {value}" if self.plugin else self.flag

    def help_text(self, defaults=None):
        """The help line: the declaration's help and its default, then ``defaults`` (others' own, as
        {where: value}: a circuit's, say)."""
        unit = f" {self.unit}" if self.unit else ""
        given = [f"{value}{unit}" + (f" for {where}" if where else "") for where, value in (defaults or {}).items()]
        if self.default is not None and self.kind != "flag":
            given.insert(0, ({True: "on", False: "off"}[self.default] if self.kind == "switch" else
                             f"{self.default}{unit}"))
        return self.help + (f" (default {'; '.join(given)})" if given else "")

    def add_to(self, parser, defaults=None):
        """Add the option's flag to an argparse parser; its value there is None when not given."""
        common = {"dest": self.name, "help": self.help_text(defaults)}
        if self.kind == "flag":
            parser.add_argument(self.flag, action="store_true", default=None, **common)
            return
        if self.kind == "switch":
            parser.add_argument(self.flag, choices=SWITCH, type=str, **common)
            return
        if self.kind == "choice":
            parser.add_argument(self.flag, choices=self.choices, **common)
            return
        types = {"whole": positive_int if (self.low or 0) >= 1 else int, "number": finite_float,
                 "positive": positive_float, "seconds": positive_float, "text": path_argument}
        parser.add_argument(self.flag, type=types[self.kind], metavar=self.metavar, **common)

    def from_command_line(self, value):
        """The value argparse gave, as :meth:`check` takes it (a switch's on/off as True/False)."""
        if self.kind == "switch" and value is not None:
            return value == "on"
        return value

    def argv(self, value):
        """The value as ``spiking-attn run`` arguments (a sweep point passes these on)."""
        if self.kind == "flag":
            return [self.flag] if value else []
        if self.kind == "switch" and isinstance(value, bool):
            value = "on" if value else "off"
        return [self.flag, str(value)]
