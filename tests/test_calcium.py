"""The G-ChI calcium astrocyte: its Brian2 equations against a SciPy reference, its regime, and the
softmax head with it as the feedback loop's sensor."""
import numpy as np
import pytest
from brian2 import Equations, Network, NeuronGroup, StateMonitor, defaultclock, ms, prefs, second, umolar
from scipy.integrate import solve_ivp

from spiking_attn.api import simulate_problem
from spiking_attn.circuits.astrocytes.gchi import GCHI, GChIParameters, eigenvalues, gchi_derivatives, steady_state
from spiking_attn.problems import random_problem

# The known glutamate input: Y(t) = Y_peak sin^2(pi t / period), uM, with period = 2.5 s / time_scale.
Y_PEAK, PERIOD = 20.0, 2.5
GLUTAMATE_INPUT = Equations("glutamate = Y_peak * sin(pi * t / period)**2 : mmolar")


def silent(message):
    pass


def glutamate(t, period):
    """The glutamate input at time ``t`` (s), uM."""
    return Y_PEAK * np.sin(np.pi * t / period) ** 2


@pytest.mark.parametrize("parameters", [GChIParameters(time_scale=1.0), GChIParameters()],
                         ids=["published-kinetics", "head-default"])
def test_brian2_equations_match_a_scipy_reference(parameters):
    """One astrocyte under a known glutamate input for 10 s / time_scale, from a state far from rest: the Brian2
    equations (rk4, dt 1 ms / time_scale: the head's 0.1 ms for the head's kinetics, which are 10 times faster
    than the published ones) against solve_ivp on the NumPy model; mean relative error below 1e-4 on IP3, Ca2+ and
    h (and Gamma_A)."""
    start = np.array([0.0, 0.05, 0.05, 0.9])
    scale = 1.0 / parameters.time_scale  # the published kinetics' time, s, per second of these kinetics
    prefs.codegen.target = "numpy"
    defaultclock.dt = scale * ms
    namespace = {**parameters.namespace(), "Y_peak": Y_PEAK * umolar, "period": PERIOD * scale * second}
    astrocyte = NeuronGroup(1, GCHI + GLUTAMATE_INPUT, method="rk4", namespace=namespace)
    astrocyte.Gamma_A, astrocyte.I, astrocyte.C, astrocyte.h = start[0], start[1] * umolar, start[2] * umolar, start[3]
    monitor = StateMonitor(astrocyte, ["Gamma_A", "I", "C", "h"], record=0, dt=10 * scale * ms)
    Network(astrocyte, monitor).run(10 * scale * second)
    times = monitor.t[:] / second
    simulated = np.array([monitor.Gamma_A[0], monitor.I[0] / umolar, monitor.C[0] / umolar, monitor.h[0]])
    reference = solve_ivp(lambda t, x: gchi_derivatives(x, glutamate(t, PERIOD * scale), parameters),
                          (0.0, 10.0 * scale), start, method="DOP853", rtol=1e-11, atol=1e-13, t_eval=times).y
    assert np.ptp(reference[2]) > 0.1  # Ca2+ really moves (by more than 0.1 uM)
    later = times >= 0.5 * scale  # Gamma_A starts at exactly 0
    relative = np.abs(simulated[:, later] - reference[:, later]) / np.abs(reference[:, later])
    assert relative.mean(axis=1).max() < 1e-4, relative.mean(axis=1)


def test_the_head_uses_a_regime_without_calcium_oscillations():
    """Under any constant glutamate from 0 to 1 mM the resting state is stable (no oscillations) and its
    Ca2+ grows with the glutamate: a monotonic sensor, as the loop needs."""
    parameters = GChIParameters()
    levels = np.concatenate([[0.0], np.logspace(-2, 3, 21)])
    states = np.array([steady_state(level, parameters) for level in levels])
    assert np.all(np.diff(states[:, 2]) > 0)
    for level, state in zip(levels, states):
        np.testing.assert_allclose(gchi_derivatives(state, level, parameters), 0.0, atol=1e-10)
        assert eigenvalues(level, parameters).real.max() < -1.0  # every mode decays within 1 s


def test_calcium_oscillates_outside_that_regime():
    """With little PLC-delta and strong PLC-beta (O_delta 0.05, O_beta 4 uM/s) a low glutamate level
    makes Ca2+ oscillate, as in De Pitta et al. 2009; the head's parameters at that level do not."""
    def late_calcium_swing(parameters):
        path = solve_ivp(lambda t, x: gchi_derivatives(x, 0.3, parameters), (0.0, 30.0), [0.0, 0.05, 0.05, 0.9],
                         method="LSODA", rtol=1e-9, atol=1e-12, t_eval=np.linspace(20.0, 30.0, 2001))
        return np.ptp(path.y[2])

    assert late_calcium_swing(GChIParameters(O_delta=0.05, O_beta=4.0)) > 0.1
    assert late_calcium_swing(GChIParameters()) < 1e-6


def test_gchi_head_normalises_rows():
    """T = 8, D = 8, scores of s.d. 1.5: the G-ChI astrocytes hold every row at its set point."""
    problem = random_problem(8, 8, seed=3).scaled(1.5)
    result = simulate_problem(problem, target="numpy", seed=3, astrocyte_model="gchi", progress=silent)
    assert result.summary["simulated_seconds"] == 4.0
    # the settling time recorded is the G-ChI astrocyte's (2.5 s), everywhere the summary gives one
    assert result.summary["settle_seconds"] == result.summary["parameters"]["settle"] == 2.5
    assert result.metrics["row_sum_error_max"] <= 0.05
    assert result.metrics["row_tv_mean"] <= 0.02
