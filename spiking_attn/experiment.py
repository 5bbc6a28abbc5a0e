"""One experiment: the options of a run, a circuit simulated on a problem, decoded, compared with exact
softmax, and saved.

The options of a run are declared once (:class:`~spiking_attn.option.Option`): those every run has
here (:data:`OPTIONS`), the device options in :mod:`spiking_attn.devices`, and each circuit's own in
its module (its kind's ``options``). :data:`RUN_OPTIONS` collects them; the options record
:class:`RunOptions`, the checks of :func:`resolve_options`, the command line's flags
(:mod:`spiking_attn.arguments`), the Python API's keyword arguments (:mod:`spiking_attn.api`) and the
options recorded in summary.json are all derived from those declarations.
"""
import os
from dataclasses import dataclass, field, make_dataclass

import brian2
import numpy as np

from .calibration import CALIBRATION_FILE, obtain_calibration, save_calibration
from .circuits import circuit_kind, circuit_kinds, circuit_names
from .decoding import decode, spike_counts
from .devices import OPTIONS as DEVICE_OPTIONS
from .devices import check_cache_dir, check_target, simulate, stderr_progress
from .energy import attention_macs, energy_account
from .errors import InputError
from .metrics import attention_metrics, metrics_table, row_table
from .option import Option
from .output import write_json
from .reference import softmax_attention
from .validation import check_size

MAX_SEED = 2 ** 32 - 1

OPTIONS = (
    Option("network", "the circuit: " + "; ".join(f"{kind.name}, {kind.description}" for kind in circuit_kinds()),
           "choice", default=circuit_names()[0], choices=circuit_names()),
    Option("duration", "read (counting) window in seconds: for all rows after the settling time, or per query "
                       "where a network reads queries in turn", "seconds", metavar="SEC", unit="s"),
    Option("astrocyte", "'off' blocks the astrocytes: no feedback or division, so rows are not normalised",
           "switch", default=True, recorded=True),
    # The seed and the mask describe the problem: summary.json writes them with its shape.
    Option("causal", "causal (decoder) attention: query t sees keys j <= t only; masked pairs have no neurons "
                     "or synapses, so their weight is exactly 0", "flag", default=False),
    Option("seed", "seed of the random problem, the initial phases and the random features, 0 to 2^32 - 1",
           "whole", default=0, low=0, high=MAX_SEED),
    Option("no_figure", "write no attention.png (drawing it takes about 0.9 s; a sweep's points draw none unless "
                        "its config sets no_figure = false)", "flag", default=False),
)
# Every option of a run: the devices', this module's, and each circuit's own (in the order summary.json
# records them).
RUN_OPTIONS = (*DEVICE_OPTIONS, *OPTIONS, *(option for kind in circuit_kinds() for option in kind.options))
OPTION = {option.name: option for option in RUN_OPTIONS}  # the declaration of each run option, by name
COMMON = {option.name for option in (*OPTIONS, *DEVICE_OPTIONS)}

RunOptions = make_dataclass("RunOptions", [(option.name, object, field(default=None)) for option in RUN_OPTIONS],
                            frozen=True)
RunOptions.__doc__ = ("The settings of one run, complete and checked (:func:`resolve_options`); None where an "
                      "option does not apply to the run's network or target.\n\nAttributes\n----------\n"
                      + "\n".join(f"{option.name}\n    {option.help}." for option in RUN_OPTIONS))


def _applies(option, kind, target):
    """Whether ``option`` applies to a run of circuit ``kind`` on ``target``."""
    return (option.name in COMMON or option in kind.options) and (option.targets is None or target in option.targets)


def _refuse_misplaced(given, kind, target):
    """Refuse (one line) options given with a value other than their default where they do not apply."""
    misplaced = [option for option in RUN_OPTIONS if option.name in given and not _applies(option, kind, target)
                 and given[option.name] != option.default]
    for option in misplaced:
        if option.targets is not None and target not in option.targets:
            raise InputError(f"{option.flag} applies to --target {', '.join(option.targets)} only, not to {target}")
    for owner in circuit_kinds():
        theirs = [option for option in misplaced if option in owner.options]
        if theirs:
            flags = ", ".join(option.refused(given[option.name]) for option in theirs)
            verb = "applies" if len(theirs) == 1 else "apply"
            raise InputError(f"{flags} {verb} to --network {owner.name} only, not to --network {kind.name}")


def resolve_options(warn=print, **given):
    """Check the options of a run and fill in the defaults.

    An option that does not apply to the chosen network (another circuit's option) or target
    (``threads`` but for cpp_standalone) is refused with one line unless it has its default value,
    and is None in the record: it is never recorded as if it applied. ``cache_dir`` with a runtime
    target is harmless and only warned about.

    Parameters
    ----------
    warn : callable
        Receives one-line warnings.
    **given
        Fields of :class:`RunOptions`; None (or absent) means "not given".

    Returns
    -------
    RunOptions
        With the defaults of the chosen network and target filled in.
    """
    unknown = set(given) - set(OPTION)
    if unknown:
        raise InputError(f"unknown option(s): {', '.join(sorted(unknown))}")
    given = {name: value for name, value in given.items() if value is not None}
    network = OPTION["network"].check(given.get("network", OPTION["network"].default))
    target = OPTION["target"].check(given.get("target", OPTION["target"].default))
    kind = circuit_kind(network)
    _refuse_misplaced(given, kind, target)
    values = {}
    for option in RUN_OPTIONS:
        value = given.get(option.name, kind.defaults.get(option.name, option.default))
        values[option.name] = option.check(value) if value is not None and _applies(option, kind, target) else None
    values["cache_dir"] = check_cache_dir(values["cache_dir"], target, warn)
    check_target(target)
    options = RunOptions(**values)
    kind.check_options(options)
    return options


def recorded_options(options):
    """The options summary.json records, by name."""
    return {option.name: getattr(options, option.name) for option in RUN_OPTIONS if option.recorded}


@dataclass
class Result:
    """Everything one run produced.

    Attributes
    ----------
    problem : Problem
    exact : Attention
    decoded : Decoded
    recording : Recording
    metrics : dict
        Scalar metrics (:func:`spiking_attn.metrics.attention_metrics` and the circuit's own).
    summary : dict
        Metrics, timings, settings and sizes, as written to ``summary.json``.
    rate_model : RateModel or None
        The circuit's rate model, where it has one (the random-feature network's).
    arrays : dict
        The circuit's own arrays, saved in ``attention.npz`` beside the exact and decoded ones.
    calibration : Calibration or None
        The calibrated state the network ran with (saved as ``calibration.npz``).
    """

    problem: object
    exact: object
    decoded: object
    recording: object
    metrics: dict
    summary: dict
    rate_model: object = None
    arrays: dict = field(default_factory=dict)
    calibration: object = None

    @property
    def table(self):
        """The metrics as a DataFrame: metric, value, description."""
        return metrics_table(self.metrics)

    @property
    def rows(self):
        """Per-row errors as a DataFrame (:func:`spiking_attn.metrics.row_table`)."""
        return row_table(self.exact, self.decoded)

    @property
    def attention(self):
        """The decoded attention, shape (T_q, T_k) or (H, T_q, T_k)."""
        return self.decoded.attention

    @property
    def output(self):
        """The decoded output y_hat, shape (T_q, Dv) or (H, T_q, Dv)."""
        return self.decoded.output


def busiest_rate(recording, population):
    """Largest firing rate of one neuron of ``population`` in any read window (Hz)."""
    rates = [spike_counts(*recording.spikes[population], recording.sizes[population], start, stop).max()
             / (stop - start) for start, stop in np.unique(recording.windows, axis=0)]
    return float(max(rates))


def check_network_size(options, tokens, dim, value_dim, parameters=None, heads=1, key_tokens=None):
    """Refuse (InputError) a problem shape the chosen network cannot take, or a network of that
    shape that would not fit in this machine's memory."""
    kind = circuit_kind(options.network)
    key_tokens = tokens if key_tokens is None else key_tokens
    if options.causal and tokens != key_tokens:
        raise InputError(f"--causal needs as many queries as keys, got T_q={tokens} and T_k={key_tokens}")
    kind.check_shape(heads, tokens, key_tokens)
    check_size(*kind.size(options, heads, tokens, key_tokens, dim, value_dim, kind.parameters(options, parameters)))


def _saturation(recording, population, dt, progress):
    """The busiest rate of the circuit's encoding population in its read windows, and whether it is
    above 1 / (2 dt), where the largest values saturate (then warned about)."""
    rate_max = busiest_rate(recording, population)
    saturation_rate = 0.5 / dt
    if rate_max > saturation_rate:
        progress(f"warning: {population} neurons fired at up to {rate_max:.0f} Hz, above 1/(2 dt) = "
                 f"{saturation_rate:.0f} Hz: the largest values saturate and the attention is biased")
    return rate_max, rate_max > saturation_rate


def _summary(problem, options, exact, metrics, circuit, recording, timings, saturation):
    """summary.json: metrics, the circuit's settings, timings, the recorded options, the problem's
    shape, the busiest rate, sizes and counts."""
    rate_max, saturated = saturation
    threads = options.threads or 1
    return {
        **metrics,
        **circuit.summary(),
        "build_seconds": timings.build_seconds,
        "run_seconds": timings.run_seconds,
        "reused_build": timings.reused_build,
        "code_generated": timings.code_generated,
        **recorded_options(options),
        "problem": problem.name,
        "heads": problem.heads,
        "causal": options.causal,
        "tokens": problem.tokens,
        "key_tokens": problem.key_tokens,
        "dim": problem.dim,
        "value_dim": problem.value_dim,
        "score_max": float(exact.scores[np.isfinite(exact.scores)].max()),
        "seed": options.seed,
        f"{circuit.encoding_population}_rate_max_hz": rate_max,
        "saturated": saturated,
        "neurons": dict(recording.sizes),
        "synapses": recording.synapses,
        "spikes": {name: len(times) for name, (_, times) in recording.spikes.items()},
        "synaptic_events": recording.synaptic_events,
        "synaptic_events_per_second_per_core": recording.synaptic_events / timings.run_seconds / threads,
        "energy": energy_account(recording.events, recording.population_spikes, problem_macs(problem, options)),
        "brian2_version": brian2.__version__,
    }


def problem_macs(problem, options):
    """The exact attention's multiply-accumulates on ``problem``: every (query, key) pair that exists (causal: the
    keys j <= t; masked keys: none), times D + Dv, per head."""
    present = problem.key_tokens if problem.key_mask is None else int(np.sum(problem.key_mask))
    keys = np.arange(1, problem.tokens + 1) if options.causal else present
    return attention_macs(problem.heads, problem.tokens, keys, problem.dim, problem.value_dim)


def run_experiment(problem, options, parameters=None, progress=stderr_progress):
    """Simulate the circuit of ``options`` on ``problem`` and measure it against exact softmax attention.

    Parameters
    ----------
    problem : Problem
    options : RunOptions
        Checked options (:func:`resolve_options`).
    parameters : HeadParameters or FeatureParameters, optional
        Defaults to the circuit's default parameters.
    progress : callable
        Receives progress lines and warnings.

    Returns
    -------
    Result
    """
    kind = circuit_kind(options.network)
    parameters = kind.parameters(options, parameters)
    check_network_size(options, problem.tokens, problem.dim, problem.value_dim, parameters, problem.heads,
                       problem.key_tokens)  # before anything is allocated
    calibration = obtain_calibration(kind, problem, options, parameters, progress)
    loaded = {} if calibration is None else {"calibration": calibration.state}
    exact = softmax_attention(problem.q, problem.k, problem.v, causal=options.causal, key_mask=problem.key_mask)
    circuit, recording, timings = simulate(lambda: kind.build(problem, options, parameters, **loaded),
                                           target=options.target, dt=parameters.dt, progress=progress,
                                           cache_dir=options.cache_dir, threads=options.threads or 1)
    decoded = decode(recording)
    if problem.multi_head:
        decoded = decoded.in_heads(problem.heads)
    metrics = {**attention_metrics(exact, decoded), **circuit.metrics(exact, decoded)}
    saturation = _saturation(recording, circuit.encoding_population, parameters.dt, progress)
    summary = _summary(problem, options, exact, metrics, circuit, recording, timings, saturation)
    if calibration is not None:
        summary["calibration"] = calibration.summary()
    return Result(problem=problem, exact=exact, decoded=decoded, recording=recording, metrics=metrics,
                  summary=summary, rate_model=getattr(circuit, "rate_model", None),
                  arrays=circuit.arrays(), calibration=calibration)


def write_result(result, folder, figure=True):
    """Write ``summary.json`` (strict JSON: undefined metrics are null), ``metrics.csv``, ``rows.csv``,
    ``attention.npz`` (the problem, the exact and decoded arrays and the circuit's own),
    ``attention.png`` (the circuit's figure; not with ``figure`` False) and, where the network was calibrated,
    ``calibration.npz`` into ``folder``."""
    from .figures import save_figure

    write_json(os.path.join(folder, "summary.json"), result.summary)
    result.table.to_csv(os.path.join(folder, "metrics.csv"), index=False)
    result.rows.to_csv(os.path.join(folder, "rows.csv"), index=False)
    p, e, d = result.problem, result.exact, result.decoded
    np.savez(os.path.join(folder, "attention.npz"), q=p.q, k=p.k, v=p.v, scores=e.scores, attention=e.attention,
             normaliser=e.normaliser, output=e.output, attention_decoded=d.attention,
             normaliser_decoded=d.normaliser, output_decoded=d.output, **result.arrays)
    if figure:
        save_figure(circuit_kind(result.summary["network"]).figure(result), os.path.join(folder, "attention.png"))
    if result.calibration is not None:
        save_calibration(os.path.join(folder, CALIBRATION_FILE), result.calibration)
