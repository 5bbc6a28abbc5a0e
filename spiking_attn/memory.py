"""The associative-memory experiment (``spiking-attn memory``): store patterns, cue the spiking memory with
corrupted copies, and compare what it retrieves with its rate model and with a Hopfield network.

The options are declared here once (:data:`OPTIONS`, with the device options and the seed of a run); the
command line's flags and the sweep's points are derived from them. docs/model.md §8 has the science.
"""
import os
from dataclasses import dataclass, field, make_dataclass, replace

import numpy as np
import pandas as pd

from . import associative_memory as am
from .circuits.memory import MemoryParameters, build_memory, synapse_count
from .decoding import decode
from .devices import OPTIONS as DEVICE_OPTIONS
from .devices import check_cache_dir, check_target, simulate, stderr_progress
from .errors import InputError
from .experiment import MAX_SEED
from .option import Option
from .output import write_json
from .validation import check_size

PATTERN_SOURCES = ("random", "digits")
DEFAULT_COUNT = 32  # patterns stored from the random ones or the digits when --count is not given
TRAJECTORY_BIN = 0.01  # s: the decoded state along the run, counted in bins of this length
OPTIONS = (
    Option("patterns", "the stored patterns: 'random' (--count random +-1 patterns of --size entries), 'digits' "
                       "(--count of scikit-learn's 8 x 8 handwritten digits, binarised to +-1) or FILE.npz with an "
                       "array patterns (P x N, entries +1 and -1)", "text", default="random",
           metavar="random|digits|FILE.npz", recorded=True),
    Option("count", "P, the patterns stored (default 32; a file's first P, all of them when not given)", "whole",
           low=1, metavar="P", recorded=True),
    Option("size", "N, the entries of a random pattern", "whole", default=64, low=2, high=4096, metavar="N",
           recorded=True),
    Option("cues", "C, the cues, each a pattern drawn at random and corrupted; all are retrieved at once", "whole",
           default=20, low=1, high=10_000, metavar="C", recorded=True),
    Option("cue_noise", "the fraction of a cue's entries flipped, in [0, 1)", "number", default=0.1, low=0.0,
           high=1.0, metavar="F", recorded=True),
    Option("spiking", "'off': only the rate model and the Hopfield network, for loads beyond the spiking network's "
                      "reach (the spiking fields of summary.json are then null)", "switch", default=True,
           recorded=True),
    Option("beta_gain", "G: the softmax's inverse temperature is beta = G / sqrt(N) (1: the transformer's "
                        "1 / sqrt(D))", "positive", default=4.0, metavar="G", recorded=True),
    Option("seed", "seed of the random patterns or the digits drawn, the cues, the initial phases and the Hopfield "
                   "network's update order, 0 to 2^32 - 1", "whole", default=0, low=0, high=MAX_SEED),
    *DEVICE_OPTIONS,
)
MemoryOptions = make_dataclass("MemoryOptions", [(option.name, object, field(default=None)) for option in OPTIONS],
                               frozen=True)
MemoryOptions.__doc__ = ("The settings of one memory run, checked (:func:`memory_options`).\n\nAttributes\n"
                         "----------\n" + "\n".join(f"{option.name}\n    {option.help}." for option in OPTIONS))


def memory_options(**given):
    """Check the options of a memory run (None or absent: the default) and return :class:`MemoryOptions`."""
    unknown = set(given) - {option.name for option in OPTIONS}
    if unknown:
        raise InputError(f"unknown option(s): {', '.join(sorted(unknown))}")
    values = {}
    for option in OPTIONS:
        value = given.get(option.name)
        values[option.name] = option.default if value is None else option.check(value)
    if values["count"] is None and values["patterns"] in PATTERN_SOURCES:
        values["count"] = DEFAULT_COUNT
    if given.get("size") is not None and values["patterns"] != "random":
        raise InputError(f"--size applies to --patterns random only; {values['patterns']} sets N itself")
    if not values["cue_noise"] < 1:
        raise InputError(f"--cue-noise must be below 1 (the fraction of entries flipped), got {values['cue_noise']:g}")
    check_target(values["target"])
    if values["threads"] != 1 and values["target"] != "cpp_standalone":
        raise InputError(f"--threads applies to --target cpp_standalone only, not to {values['target']}")
    check_cache_dir(values["cache_dir"], values["target"], stderr_progress)
    return MemoryOptions(**values)


def stored_patterns(options, rng):
    """The patterns (P x N, +-1) of ``options`` and their labels (the digits' classes; -1 for others)."""
    source, count = options.patterns, options.count
    if source == "digits":
        return am.digit_patterns(count, rng)
    if source == "random":
        patterns = am.random_patterns(count, options.size, rng)
    else:
        patterns = am.load_patterns(source)
        if count is not None and count > len(patterns):
            raise InputError(f"{source} holds only {len(patterns)} patterns; --count takes at most that many, "
                             f"got {count}")
        patterns = patterns[:count]
    return patterns, np.full(len(patterns), -1)


@dataclass
class MemoryResult:
    """A memory run: the patterns and cues, each model's retrieved states, the trajectories and the summary."""

    patterns: np.ndarray
    labels: np.ndarray
    cues: np.ndarray
    sources: np.ndarray
    states: dict
    trajectory: dict
    summary: dict
    rows: pd.DataFrame = None


def run_memory(options, progress=stderr_progress):
    """Store the patterns, retrieve from every cue in spikes (unless ``spiking`` is off), in the rate model and in
    the Hopfield network."""
    rng = np.random.default_rng(options.seed)
    patterns, labels = stored_patterns(options, rng)
    cues, sources = am.make_cues(patterns, options.cues, options.cue_noise, rng)
    beta = am.inverse_temperature(options.beta_gain, patterns.shape[1])
    if options.spiking:  # before any work: a network too large for this machine is refused at once
        check_size(synapse_count(len(cues), *patterns.shape),
                   f"the memory of {len(patterns)} patterns of {patterns.shape[1]} with {len(cues)} cues")
    p = MemoryParameters().for_memory(patterns, beta)
    rate_times, rate_path, rate_energy = am.DenseMemory(patterns, beta, tau_memory=p.tau_d).run(
        cues, p.cue_seconds, p.loop_seconds)
    states = {"rate_model": rate_path[-1], "hopfield": am.hopfield_retrieve(patterns, cues, rng)}
    trajectory = {"rate_times": rate_times + p.cue_seconds, "rate_model": rate_path, "rate_energy": rate_energy}
    run = {}
    if options.spiking:
        states["spiking"], spiking_trajectory, run = _spiking(options, patterns, cues, beta, progress)
        trajectory.update(spiking_trajectory)
    result = MemoryResult(patterns=patterns, labels=labels, cues=cues, sources=sources, states=states,
                          trajectory=trajectory,
                          summary=_summary(options, patterns, cues, sources, states, beta, p, run))
    return replace(result, rows=_rows(result))


def _spiking(options, patterns, cues, beta, progress):
    """The spiking memory's retrieved states (decoded in the read window), its trajectory and what the run took."""
    parameters = MemoryParameters()
    circuit, recording, timings = simulate(lambda: build_memory(patterns, cues, beta, parameters, seed=options.seed),
                                           target=options.target, dt=parameters.dt, progress=progress,
                                           cache_dir=options.cache_dir, threads=options.threads)
    times, path = _trajectory(recording, circuit.duration)
    trajectory = {"times": times, "spiking": path, "spiking_energy": am.dense_energy(patterns, path, beta)}
    run = {"simulated_seconds_per_cue": circuit.duration, "build_seconds": timings.build_seconds,
           "run_seconds": timings.run_seconds, "reused_build": timings.reused_build,
           "synaptic_events": recording.synaptic_events}
    return decode(recording).output, trajectory, run


def _trajectory(recording, duration):
    """The decoded state of every cue in consecutive bins of TRAJECTORY_BIN: bin centres (s) and states
    (bins x C x N)."""
    starts = np.arange(0.0, duration - TRAJECTORY_BIN / 2, TRAJECTORY_BIN)
    states = [decode(replace(recording, windows=np.tile([start, start + TRAJECTORY_BIN], (recording.rows, 1)))).output
              for start in starts]
    return starts + TRAJECTORY_BIN / 2, np.array(states)


def _summary(options, patterns, cues, sources, states, beta, parameters, run):
    """summary.json: the accuracies (the spiking ones null without the spiking run), the problem, the options,
    the protocol and what the spiking run took."""
    retrieved = {name: am.retrieved(state, patterns) for name, state in states.items()}
    spiking = states.get("spiking")
    return {
        "retrieval_accuracy": None if spiking is None else am.accuracy(spiking, patterns, sources),
        "rate_model_accuracy": am.accuracy(states["rate_model"], patterns, sources),
        "rate_model_agreement": None if spiking is None else float(np.mean(retrieved["spiking"]
                                                                           == retrieved["rate_model"])),
        "hopfield_accuracy": am.accuracy(states["hopfield"], patterns, sources),
        "simulated_seconds_per_cue": run.get("simulated_seconds_per_cue"),
        "patterns": len(patterns), "size": patterns.shape[1], "cues": len(cues), "beta": float(beta),
        "seed": options.seed,
        "options": {option.name: getattr(options, option.name) for option in OPTIONS if option.recorded},
        "cue_seconds": parameters.cue_seconds, "loop_seconds": parameters.loop_seconds,
        "read_seconds": parameters.read_seconds, "feedback_rate": float(parameters.feedback_rate), **run,
    }


def _rows(result):
    """One row per cue: its pattern, the cue's overlap, and each model's overlap and retrieved pattern."""
    cue = np.arange(len(result.cues))
    table = {"cue": cue, "pattern": result.sources, "label": result.labels[result.sources],
             "cue_overlap": am.overlaps(result.cues, result.patterns)[cue, result.sources]}
    for name, state in result.states.items():
        table[f"{name}_overlap"] = am.overlaps(state, result.patterns)[cue, result.sources]
        table[f"{name}_retrieved"] = am.retrieved(state, result.patterns)
    return pd.DataFrame(table)


def write_memory(result, folder):
    """Write summary.json, rows.csv (one row per cue), memory.npz (patterns, cues, states, trajectories),
    retrieval.png (cue -> retrieved over time) and energy.png into ``folder``."""
    from .figures import energy_figure, retrieval_figure, save_figure

    write_json(os.path.join(folder, "summary.json"), result.summary)
    result.rows.to_csv(os.path.join(folder, "rows.csv"), index=False)
    np.savez(os.path.join(folder, "memory.npz"), patterns=result.patterns, labels=result.labels, cues=result.cues,
             sources=result.sources, **{f"{name}_states": state for name, state in result.states.items()},
             **{f"trajectory_{name}": values for name, values in result.trajectory.items()})
    model = "spiking" if "spiking" in result.states else "rate_model"
    save_figure(retrieval_figure(result.cues, result.sources, result.patterns, result.trajectory, model),
                os.path.join(folder, "retrieval.png"))
    save_figure(energy_figure(result.trajectory, result.summary["cue_seconds"]), os.path.join(folder, "energy.png"))
