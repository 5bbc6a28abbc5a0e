"""The Li-Rinzel astrocyte: its Brian2 equations against a SciPy reference, its regime, and the softmax
head with it as the feedback loop's sensor."""
import numpy as np
import pytest
from brian2 import Equations, Network, NeuronGroup, StateMonitor, defaultclock, ms, prefs, second, umolar
from scipy.integrate import solve_ivp

from spiking_attn.api import simulate_problem
from spiking_attn.circuits.astrocytes.li_rinzel import (
    LI_RINZEL,
    LiRinzelParameters,
    eigenvalues,
    li_rinzel_derivatives,
    steady_state,
)
from spiking_attn.errors import InputError
from spiking_attn.experiment import resolve_options
from spiking_attn.problems import random_problem

# The known input: IP3 made at J(t) = J_peak sin^2(pi t / period), uM/s, over NEST's resting IP3 of 0.16 uM
# (IP3 up to about 1 uM: through the oscillating window and out of it again).
PERIOD = 2.5
IP3_INPUT = Equations("J_IP3 = J_peak * sin(pi * t / period)**2 : mmolar/second")


def silent(message):
    pass


@pytest.mark.parametrize("parameters, peak, dt", [
    (LiRinzelParameters(time_scale=1.0, tau_IP3=7.142, IP3_0=0.16), 0.25, 1.0),
    (LiRinzelParameters(IP3_0=0.16), 40.0, 0.5)], ids=["nest-kinetics", "head-kinetics"])
def test_brian2_equations_match_a_scipy_reference(parameters, peak, dt):
    """One astrocyte under a known IP3 production for 8 s, from a state far from rest: the Brian2
    equations (rk4; 1 ms for NEST's whole-cell kinetics, 0.5 ms for the head's 20 times faster ones)
    against solve_ivp on the NumPy model; mean relative error below 1e-4 on IP3, Ca2+ and h."""
    start = np.array([0.05, 0.3, 0.5])
    prefs.codegen.target = "numpy"
    defaultclock.dt = dt * ms
    namespace = {**parameters.namespace(), "J_peak": peak * umolar / second, "period": PERIOD * second}
    astrocyte = NeuronGroup(1, LI_RINZEL + IP3_INPUT, method="rk4", namespace=namespace)
    astrocyte.IP3, astrocyte.C, astrocyte.h = start[0] * umolar, start[1] * umolar, start[2]
    monitor = StateMonitor(astrocyte, ["IP3", "C", "h"], record=0, dt=10 * ms)
    Network(astrocyte, monitor).run(8 * second)
    times = monitor.t[:] / second
    simulated = np.array([monitor.IP3[0] / umolar, monitor.C[0] / umolar, monitor.h[0]])
    reference = solve_ivp(lambda t, x: li_rinzel_derivatives(x, peak * np.sin(np.pi * t / PERIOD) ** 2, parameters),
                          (0.0, 8.0), start, method="DOP853", rtol=1e-11, atol=1e-13, t_eval=times).y
    defaultclock.dt = 0.1 * ms
    assert np.ptp(reference[1]) > 0.1  # Ca2+ really moves (by more than 0.1 uM)
    relative = np.abs(simulated - reference) / np.abs(reference)
    print("mean relative error (IP3, C, h):", relative.mean(axis=1))
    assert relative.mean(axis=1).max() < 1e-4, relative.mean(axis=1)


def test_the_set_point_is_a_stable_node_and_calcium_grows_with_ip3():
    """The resting Ca2+ rises with IP3 from 0 to 10 uM (one resting state each), and at the set point
    (0.2 uM) both modes decay without oscillating: a monotonic sensor in a non-oscillating regime."""
    parameters = LiRinzelParameters()
    levels = np.concatenate([[0.0], np.logspace(-2, 1, 31)])
    states = np.array([steady_state(level, parameters) for level in levels])
    assert np.all(np.diff(states[:, 1]) > 0)
    for state in states:
        np.testing.assert_allclose(li_rinzel_derivatives(state, 0.0, parameters)[1:], 0.0, atol=1e-10)
    at_set_point = eigenvalues(parameters.IP3_set, parameters)
    assert np.all(at_set_point.imag == 0) and at_set_point.real.max() < -1.0


def test_calcium_oscillates_in_the_window_the_loop_only_crosses():
    """IP3 held at 0.4 uM (inside the window, IP3_0 = 0.4 and no input): Ca2+ keeps oscillating; at the
    set point it settles."""
    def late_calcium_swing(ip3):
        parameters = LiRinzelParameters(IP3_0=ip3)
        path = solve_ivp(lambda t, x: li_rinzel_derivatives(x, 0.0, parameters), (0.0, 10.0), [ip3, 0.3, 0.5],
                         method="LSODA", rtol=1e-9, atol=1e-12, t_eval=np.linspace(8.0, 10.0, 2001))
        return np.ptp(path.y[1])

    assert eigenvalues(0.4).real.max() > 0
    assert late_calcium_swing(0.4) > 0.05
    assert late_calcium_swing(LiRinzelParameters().IP3_set) < 1e-6


def test_li_rinzel_head_normalises_rows():
    """T = 8, D = 8, scores of s.d. 1.5: the Li-Rinzel astrocytes hold every row at its set point."""
    problem = random_problem(8, 8, seed=3).scaled(1.5)
    result = simulate_problem(problem, target="numpy", seed=3, astrocyte_model="li-rinzel", progress=silent)
    assert result.summary["simulated_seconds"] == 4.5
    assert result.summary["li_rinzel"]["settle"] == 3.0
    assert result.metrics["row_sum_error_max"] <= 0.02
    assert result.metrics["row_tv_mean"] <= 0.01


@pytest.mark.parametrize("options, message", [
    ({"astrocyte_model": "li-rinzel", "astrocyte": False}, "--astrocyte-model li-rinzel needs --astrocyte on"),
    ({"astrocyte_model": "li-rinzel", "network": "random-features"},
     "--astrocyte-model li-rinzel applies to --network softmax only"),
])
def test_li_rinzel_is_refused_where_it_has_no_loop(options, message):
    with pytest.raises(InputError, match=message):
        resolve_options(target="numpy", **options)
