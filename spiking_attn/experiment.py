"""One experiment: simulate a head on a problem, decode it, compare with exact softmax, save it."""
import os
from dataclasses import dataclass, replace

import brian2
import numpy as np

from .calcium import GChIParameters
from .circuits import FeatureParameters, HeadParameters, build_random_features, build_softmax_head
from .circuits.random_features import synapse_count as feature_synapses
from .circuits.softmax_head import Variability, pair_count, synapse_count as softmax_synapses
from .decoding import decode, spike_counts
from .errors import InputError
from .devices import simulate, stderr_progress
from .features import random_feature_attention
from .metrics import (attention_metrics, metrics_table, rate_model_metrics, row_table,
                      signed_rate_model_metrics)
from .output import write_json
from .reference import softmax_attention
from .validation import check_size, resolve_options


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
        Scalar metrics (:func:`spiking_attn.metrics.attention_metrics`).
    summary : dict
        Metrics, timings, settings and sizes, as written to ``summary.json``.
    rate_model : RateModel or None
        The random-feature network's rate model (None for the softmax head).
    """

    problem: object
    exact: object
    decoded: object
    recording: object
    metrics: dict
    summary: dict
    rate_model: object = None

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


def _softmax_size(options, heads, tokens, key_tokens, dim, value_dim, parameters):
    return (softmax_synapses(pair_count(heads, tokens, key_tokens, options.causal), dim, value_dim, parameters),
            f"the softmax head at H={heads}, T_q={tokens}, T_k={key_tokens}, D={dim}, Dv={value_dim}")


def _softmax_build(problem, options, parameters):
    duration = 1.5 if options.duration is None else options.duration
    calcium = GChIParameters()
    if options.settle is not None:
        parameters, calcium = replace(parameters, settle=options.settle), replace(calcium, settle=options.settle)
    variability = Variability(membrane_noise=options.membrane_noise * 1e-3, heterogeneity=options.heterogeneity,
                              input_spikes=options.input_spikes, dale=options.dale,
                              heterogeneous=options.heterogeneous)
    return build_softmax_head(problem, parameters, astrocyte=options.astrocyte, seed=options.seed,
                              duration=duration, causal=options.causal, astrocyte_model=options.astrocyte_model,
                              calcium=calcium, variability=variability)


def _feature_parameters(options, parameters):
    parameters = parameters or FeatureParameters()
    return parameters if options.duration is None else replace(parameters, read_window=options.duration)


def _feature_shape(heads, tokens, key_tokens):
    if heads > 1 or tokens != key_tokens:
        raise InputError("the random-feature network takes one head with as many queries as keys (got "
                         f"H={heads}, T_q={tokens}, T_k={key_tokens}); use --network softmax")


def _feature_size(options, heads, tokens, key_tokens, dim, value_dim, parameters):
    o = options
    return (feature_synapses(tokens, dim, value_dim, o.features, o.feature_map, o.normaliser, o.astrocyte, parameters),
            f"the random-feature network at m={o.features}, T={tokens}, D={dim}, Dv={value_dim}")


def _feature_build(problem, options, parameters):
    o = options
    return build_random_features(problem, o.features, o.feature_map, write=o.write, normaliser=o.normaliser,
                                 astrocyte=o.astrocyte, parameters=parameters, seed=o.seed, causal=o.causal)


@dataclass(frozen=True)
class NetworkKind:
    """What the run layer needs to know of a circuit (see :mod:`spiking_attn.circuits.base`).

    Attributes
    ----------
    parameters : callable
        (options, parameters or None) -> the parameters to build with.
    check_shape : callable
        (heads, T_q, T_k) -> None, or InputError for a shape the circuit cannot take.
    size : callable
        (options, heads, T_q, T_k, D, Dv, parameters) -> (synapse count, a label for the error).
    build : callable
        (problem, options, parameters) -> a built :class:`~spiking_attn.circuits.base.Circuit`.
    """

    parameters: object
    check_shape: object
    size: object
    build: object


NETWORK_KINDS = {
    "softmax": NetworkKind(parameters=lambda options, parameters: parameters or HeadParameters(),
                           check_shape=lambda heads, tokens, key_tokens: None, size=_softmax_size,
                           build=_softmax_build),
    "random-features": NetworkKind(parameters=_feature_parameters, check_shape=_feature_shape, size=_feature_size,
                                   build=_feature_build),
}


def check_network_size(options, tokens, dim, value_dim, parameters=None, heads=1, key_tokens=None):
    """Refuse (InputError) a problem shape the chosen network cannot take, or a network of that
    shape that would not fit in this machine's memory."""
    kind = NETWORK_KINDS[options.network]
    key_tokens = tokens if key_tokens is None else key_tokens
    if options.causal and tokens != key_tokens:
        raise InputError(f"--causal needs as many queries as keys, got T_q={tokens} and T_k={key_tokens}")
    kind.check_shape(heads, tokens, key_tokens)
    check_size(*kind.size(options, heads, tokens, key_tokens, dim, value_dim, kind.parameters(options, parameters)))


def _builder(problem, options, parameters):
    """The circuit-building callable for :func:`spiking_attn.devices.simulate`, and its dt; refuses a
    network that would not fit in memory before anything is allocated."""
    kind = NETWORK_KINDS[options.network]
    parameters = kind.parameters(options, parameters)
    check_network_size(options, problem.tokens, problem.dim, problem.value_dim, parameters, problem.heads,
                       problem.key_tokens)
    return (lambda: kind.build(problem, options, parameters)), parameters.dt


def run_experiment(problem, network="softmax", duration=None, settle=None, target="cpp_standalone", astrocyte=True,
                   seed=0,
                   features=None, feature_map=None, write=None, normaliser=None, parameters=None,
                   progress=stderr_progress, cache_dir=None, threads=None, causal=None, astrocyte_model=None,
                   membrane_noise=None, heterogeneity=None, heterogeneous=None, input_spikes=None, dale=None):
    """Simulate a network on ``problem`` and measure it against exact softmax attention.

    Options are checked by :func:`spiking_attn.validation.resolve_options`: None means "not
    given" (the default of the network or target); an option that does not apply to the chosen
    network or target is refused.

    Parameters
    ----------
    problem : Problem
    network : {'softmax', 'random-features'}
        The exact-softmax head (docs/model.md §3) or the paper's random-feature network (§5).
    duration : float, optional
        Read (counting) window in seconds: for the whole head (default 1.5 s, after 0.5 s of
        settling), or per query for the random-feature network (default 0.4 s).
    settle : float, optional
        Softmax head only: the settling time before the read window (s; default 0.5, or 2.5 with the
        G-ChI astrocyte).
    target : str
        Brian2 target: 'cpp_standalone', 'cython', 'numpy' or 'cuda_standalone'.
    astrocyte : bool
        The astrocytes on (rows normalised) or blocked (ablation: no feedback in the softmax head, no
        division in the random-feature network).
    seed : int
        Seed of the initial phases (and of W, b for random features), 0 to 2**32 - 1.
    features, feature_map, write, normaliser
        Random-feature network only: m (default 1000), the map (default 'performer'),
        'plastic' (default) or 'direct' writing, and 'astrocyte' (default) or 'neurons' as
        the normaliser.
    parameters : HeadParameters or FeatureParameters, optional
        Defaults to the network's default parameters.
    progress : callable
        Receives progress lines and warnings.
    cache_dir : str, optional
        Build cache for the standalone targets (see :mod:`spiking_attn.cache`).
    threads : int, optional
        OpenMP threads of the cpp_standalone binary (default 1; cpp_standalone only).
    causal : bool, optional
        Query t sees keys j <= t only (default False; needs T_q = T_k).
    astrocyte_model : {'integral', 'gchi'}, optional
        Softmax head only: the integral-controller astrocyte (default) or the G-ChI calcium astrocyte
        (settling 2.5 s instead of 0.5 s).
    membrane_noise, heterogeneity, heterogeneous, input_spikes, dale : optional
        Softmax head only, for robustness studies: sigma of white membrane noise on every neuron in mV
        (default 0, at most 10), the spread of r_score, Delta_u, thresholds and release quanta (each
        times 1 + heterogeneity U(-1, 1); default 0, at most 0.5), which of them to spread ('all',
        the default, 'r_score', 'delta_u', 'threshold' or 'release_quantum'), 'regular' (default) or
        'poisson' input spike trains, and Dale's law (negative key weights through inhibitory relay
        neurons; default False) (see :class:`~spiking_attn.circuits.softmax_head.Variability`).

    Returns
    -------
    Result
    """
    options = resolve_options(warn=progress, network=network, duration=duration, settle=settle, target=target,
                              astrocyte=astrocyte,
                              seed=seed, features=features, feature_map=feature_map, write=write,
                              normaliser=normaliser, cache_dir=cache_dir, threads=threads, causal=causal,
                              astrocyte_model=astrocyte_model, membrane_noise=membrane_noise,
                              heterogeneity=heterogeneity, heterogeneous=heterogeneous, input_spikes=input_spikes,
                              dale=dale)
    build, dt = _builder(problem, options, parameters)
    exact = softmax_attention(problem.q, problem.k, problem.v, causal=options.causal, key_mask=problem.key_mask)
    circuit, recording, timings = simulate(build, target=options.target, dt=dt, progress=progress,
                                           cache_dir=options.cache_dir, threads=options.threads or 1)
    decoded = decode(recording)
    if problem.multi_head:
        decoded = decoded.in_heads(problem.heads)
    metrics = attention_metrics(exact, decoded)
    if options.network == "random-features":
        metrics.update(rate_model_metrics(exact, decoded, circuit.rate_model))
        metrics.update(signed_rate_model_metrics(exact, random_feature_attention(
            problem.q, problem.k, problem.v, circuit.feature_map, causal=options.causal)))
    population = circuit.encoding_population
    rate_max = busiest_rate(recording, population)
    saturation_rate = 0.5 / dt
    if rate_max > saturation_rate:
        progress(f"warning: {population} neurons fired at up to {rate_max:.0f} Hz, above 1/(2 dt) = "
                 f"{saturation_rate:.0f} Hz: the largest values saturate and the attention is biased")
    summary = {
        **metrics,
        **circuit.summary(),
        "build_seconds": timings.build_seconds,
        "run_seconds": timings.run_seconds,
        "reused_build": timings.reused_build,
        "threads": options.threads,
        "target": options.target,
        "astrocyte": options.astrocyte,
        "astrocyte_model": options.astrocyte_model,
        "membrane_noise": options.membrane_noise,
        "heterogeneity": options.heterogeneity,
        "heterogeneous": options.heterogeneous,
        "input_spikes": options.input_spikes,
        "dale": options.dale,
        "problem": problem.name,
        "heads": problem.heads,
        "causal": options.causal,
        "tokens": problem.tokens,
        "key_tokens": problem.key_tokens,
        "dim": problem.dim,
        "value_dim": problem.value_dim,
        "score_max": float(exact.scores[np.isfinite(exact.scores)].max()),
        "seed": options.seed,
        f"{population}_rate_max_hz": rate_max,
        "saturated": rate_max > saturation_rate,
        "neurons": {name: size for name, size in recording.sizes.items()},
        "synapses": recording.synapses,
        "spikes": {name: len(times) for name, (_, times) in recording.spikes.items()},
        "synaptic_events": recording.synaptic_events,
        "synaptic_events_per_second_per_core": recording.synaptic_events / timings.run_seconds / (options.threads or 1),
        "brian2_version": brian2.__version__,
    }
    return Result(problem=problem, exact=exact, decoded=decoded, recording=recording, metrics=metrics,
                  summary=summary, rate_model=getattr(circuit, "rate_model", None))


def write_result(result, folder):
    """Write ``summary.json`` (strict JSON: undefined metrics are null), ``metrics.csv``, ``rows.csv``,
    ``attention.npz`` and ``attention.png`` into ``folder``."""
    from .figures import attention_figure, feature_figure, save_figure

    write_json(os.path.join(folder, "summary.json"), result.summary)
    result.table.to_csv(os.path.join(folder, "metrics.csv"), index=False)
    result.rows.to_csv(os.path.join(folder, "rows.csv"), index=False)
    p, e, d = result.problem, result.exact, result.decoded
    arrays = dict(q=p.q, k=p.k, v=p.v, scores=e.scores, attention=e.attention, normaliser=e.normaliser,
                  output=e.output, attention_decoded=d.attention, normaliser_decoded=d.normaliser,
                  output_decoded=d.output)
    if result.rate_model is not None:
        rm = result.rate_model
        arrays.update(attention_rate_model=rm.attention, astrocyte_rate_model=rm.astrocyte,
                      output_rate_model=rm.output)
    np.savez(os.path.join(folder, "attention.npz"), **arrays)
    figure = feature_figure if result.rate_model is not None else attention_figure
    save_figure(figure(result), os.path.join(folder, "attention.png"))
