"""The arguments of ``spiking-attn run``, derived from the option declarations: one parser, shared by the
command line, sweeps (every point is parsed and checked as ``run`` would) and the scripts in
``networks/`` and ``analysis/``.

The flags are those of the run options (:data:`spiking_attn.experiment.RUN_OPTIONS`), the random
problem's (:data:`spiking_attn.problems.OPTIONS`), ``--input`` and the output folder's.
"""
import argparse
import os
import sys

from .circuits import circuit_kinds
from .errors import InputError
from .experiment import RUN_OPTIONS, check_network_size, resolve_options
from .memory import OPTIONS as MEMORY_OPTIONS
from .memory import memory_options
from .option import path_argument
from .problems import OPTIONS as PROBLEM_OPTIONS
from .problems import load_problem, random_problem

# The random problem's options that describe its arrays (they cannot go with --input).
DESCRIBE_RANDOM_PROBLEM = ("tokens", "key_tokens", "heads", "dim", "score_sd")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (InputError) and exit code 2."""

    def error(self, message):
        raise InputError(message)


def circuit_defaults(name):
    """The circuits' own defaults of the option ``name``: {network: value}."""
    return {kind.name: kind.defaults[name] for kind in circuit_kinds() if name in kind.defaults}


def add_options(parser, options, defaults=None):
    """Add the flags of ``options`` (declarations) to ``parser``; the help gives each one's default, the
    circuits' own, or those of ``defaults`` ({option: {where: value}})."""
    for option in options:
        option.add_to(parser, (defaults or {}).get(option.name) or circuit_defaults(option.name))


def add_run_arguments(parser, output=True):
    """The flags of ``spiking-attn run``: the problem, every run option and (``output``) the output folder."""
    parser.add_argument("--input", type=path_argument, metavar="FILE.npz", nargs="+",
                        help="problem file(s) with arrays q (T_q x D), k (T_k x D) and v (T_k x Dv), each with a "
                             "leading head axis for several heads, or folders of them; several make a batch: one "
                             "build, one result folder per problem and batch.csv")
    add_options(parser.add_argument_group("the random problem"), PROBLEM_OPTIONS)
    own = {option.name for kind in circuit_kinds() for option in kind.options}
    add_options(parser.add_argument_group("every run"), [option for option in RUN_OPTIONS if option.name not in own])
    for kind in circuit_kinds():
        add_options(parser.add_argument_group(f"--network {kind.name} only"), kind.options)
    if output:
        add_output_arguments(parser, "run")
    return parser


def add_output_arguments(parser, command):
    """``--out DIR`` (default results/COMMAND-<date>-<time>) and ``--overwrite``."""
    parser.add_argument("--out", type=path_argument, metavar="DIR",
                        help=f"results folder (default results/{command}-<date>-<time>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out if it holds an earlier spiking-attn result (and nothing else)")


def run_parser():
    """A parser of ``spiking-attn run``'s arguments alone (what a sweep point is)."""
    return add_run_arguments(Parser(prog="spiking-attn run"))


def stderr_warning(message):
    print(f"spiking-attn: {message}", file=sys.stderr)


def run_options(args, warn=stderr_warning, **changes):
    """The checked run options of parsed arguments (:func:`spiking_attn.experiment.resolve_options`), with
    ``changes`` (option=value) applied; an option the parser does not have keeps its default."""
    given = {option.name: option.from_command_line(getattr(args, option.name, None)) for option in RUN_OPTIONS}
    return resolve_options(warn=warn, **{**given, **changes})


def problem_settings(args, network=None):
    """The random problem's settings from parsed arguments, defaults filled in (the circuit's own
    ``score_sd`` for ``network``)."""
    values = {option.name: getattr(args, option.name, None) for option in PROBLEM_OPTIONS}
    defaults = {option.name: option.default for option in PROBLEM_OPTIONS}
    defaults["score_sd"] = circuit_defaults("score_sd").get(network, defaults["score_sd"])
    values = {name: defaults[name] if value is None else value for name, value in values.items()}
    values["key_tokens"] = values["key_tokens"] or values["tokens"]
    return values


def input_files(paths):
    """The .npz files named by ``paths`` (files, or folders whose .npz files are taken in order)."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(path, name) for name in os.listdir(path) if name.endswith(".npz"))
            if not found:
                raise InputError(f"{path}: folder holds no .npz files")
            files += found
        else:
            files.append(path)
    stems = [os.path.splitext(os.path.basename(name))[0] for name in files]
    if len(set(stems)) != len(stems):
        raise InputError("two input files share a name; their result folders would collide")
    return files


def _given_problem(args):
    """The problems of --input, all validated before any runs; the random problem's options refused."""
    given = [f"--{name.replace('_', '-')}" for name in DESCRIBE_RANDOM_PROBLEM if getattr(args, name) is not None]
    if given:
        raise InputError(f"{', '.join(given)} describe{'s' if len(given) == 1 else ''} the random problem; "
                         "cannot be used with --input")
    return [load_problem(name) for name in input_files(args.input)]


def run_problems(args, options):
    """The validated problems of a run: the --input files, or the seeded random problem (whose
    network is checked to fit in memory before it is drawn); scaled."""
    settings = problem_settings(args, options.network)
    if args.input is not None:
        problems = _given_problem(args)
    else:
        check_network_size(options, settings["tokens"], settings["dim"], settings["dim"], heads=settings["heads"] or 1,
                           key_tokens=settings["key_tokens"])  # before the arrays are drawn
        problems = [random_problem(tokens=settings["tokens"], dim=settings["dim"], seed=options.seed,
                                   score_sd=settings["score_sd"], heads=settings["heads"],
                                   key_tokens=settings["key_tokens"])]
    for problem in problems:  # every problem of a batch, before any of them runs
        check_network_size(options, problem.tokens, problem.dim, problem.value_dim, heads=problem.heads,
                           key_tokens=problem.key_tokens)
    scale = settings["scale"]
    return [problem.scaled(scale) for problem in problems] if scale != 1 else problems


def add_memory_arguments(parser, output=True):
    """The flags of ``spiking-attn memory``: its options and (``output``) the output folder."""
    add_options(parser, MEMORY_OPTIONS)
    if output:
        add_output_arguments(parser, "memory")
    return parser


def memory_parser():
    """A parser of ``spiking-attn memory``'s arguments alone (what a memory sweep point is)."""
    return add_memory_arguments(Parser(prog="spiking-attn memory"), output=False)


def memory_arguments(args):
    """The checked :class:`~spiking_attn.memory.MemoryOptions` of parsed ``memory`` arguments."""
    return memory_options(**{option.name: option.from_command_line(getattr(args, option.name))
                             for option in MEMORY_OPTIONS})
