"""The G-ChI calcium astrocyte (``--astrocyte-model gchi``; docs/model.md §3.4a): its parameters, its
Brian2 equations, the same model in NumPy, and its place in the softmax head's loop.

The Brian2 equations are ``GCHI``; :func:`gchi_derivatives` is the same model written out in NumPy,
which fixes the sensor's set point (:func:`steady_state`) and its regime (:func:`eigenvalues`), and is
the reference the Brian2 equations are tested against (tests/test_calcium.py, with SciPy's
``solve_ivp``).

The model (De Pitta et al. 2009, J. Biol. Phys. 35:383; with the receptor and PLC-delta terms of
De Pitta et al. 2011 as in the Brian2 neuron-glia examples of Stimberg et al. 2019). State: the
fraction of activated astrocytic glutamate receptors Gamma_A, cytosolic IP3 ``I`` (uM), cytosolic
Ca2+ ``C`` (uM) and the IP3 receptors' deinactivation gate h; Y is the glutamate the astrocyte
sees (uM)::

    dGamma_A/dt = O_N Y (1 - Gamma_A) - Omega_N (1 + zeta C / (C + K_KC)) Gamma_A
    dI/dt = O_beta Gamma_A                                       (PLC-beta, glutamate-driven)
            + O_delta / (1 + I / kappa_delta) C^2 / (C^2 + K_delta^2)   (PLC-delta)
            - O_3K C^4 / (C^4 + K_D^4) I / (I + K_3K) - Omega_5P I      (IP3-3K, IP-5P)
    dC/dt = (Omega_C m_inf^3 h^3 + Omega_L) (C_T - (1 + rho_A) C) - O_P C^2 / (C^2 + K_P^2)
    dh/dt = (h_inf - h) / tau_h
    m_inf = I / (I + d_1) C / (C + d_5),   Q_2 = d_2 (I + d_1) / (I + d_3),
    h_inf = Q_2 / (Q_2 + C),               tau_h = 1 / (O_2 (Q_2 + C))

(Gamma_A is clipped to [0, 1] inside its equation, as in the Brian2 examples.)

In the softmax head (``GCHI_COUPLING``) each row's astrocyte is fed by the glutamate of the row's
releases and closes the loop through gliotransmission that integrates its Ca2+ error::

    dY/dt = -Omega_c Y,   on each release of row t: Y += Y_set Omega_c / R_set,t
    dc_t/dt = kappa_g (C - C_set) / C_set,   C_set = resting Ca2+ under Y = Y_set

The resting Ca2+ grows monotonically with Y and never oscillates with these parameters, so c_t is
bounded only where the row releases at R_set,t on average: the same steady state as the integral
astrocyte's.
"""
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from brian2 import Equations, Hz, NeuronGroup, second, umolar

from .base import READOUT, AstrocyteModel, ScaledRates, jacobian

# The parameters that are rates (they scale with ``time_scale``).
RATE_PARAMETERS = ("O_P", "Omega_C", "Omega_L", "O_2", "O_beta", "O_N", "Omega_N", "O_delta", "Omega_5P", "O_3K")
# Units of the parameters for Brian2: concentrations in uM; rates in 1/s, uM/s or 1/(uM s).
UNITS = {"O_P": umolar / second, "K_P": umolar, "C_T": umolar, "rho_A": 1, "Omega_C": 1 / second,
         "Omega_L": 1 / second, "d_1": umolar, "d_2": umolar, "O_2": 1 / (umolar * second), "d_3": umolar,
         "d_5": umolar, "O_beta": umolar / second, "O_N": 1 / (umolar * second), "Omega_N": 1 / second,
         "K_KC": umolar, "zeta": 1, "O_delta": umolar / second, "kappa_delta": umolar, "K_delta": umolar,
         "Omega_5P": 1 / second, "K_D": umolar, "K_3K": umolar, "O_3K": umolar / second}


@dataclass(frozen=True)
class GChIParameters(ScaledRates):
    """The G-ChI astrocyte and its coupling to the softmax head (concentrations in uM, rates in SI).

    The first group are the values of the Brian2 neuron-glia examples (Stimberg et al. 2019, after
    De Pitta et al. 2009 and 2011); every rate among them is multiplied by ``time_scale``.

    Attributes
    ----------
    O_P, K_P : float
        SERCA pump: maximal uptake rate (uM/s) and Ca2+ affinity (uM).
    C_T, rho_A : float
        Total free Ca2+ of the cell (uM) and ER-to-cytosol volume ratio.
    Omega_C, Omega_L : float
        Maximal Ca2+ release rate through IP3 receptors and ER leak rate (1/s).
    d_1, d_2, d_3, d_5, O_2 : float
        IP3 receptor kinetics: IP3 binding, Ca2+ inactivation, IP3 dissociation and Ca2+ activation
        constants (uM), and the binding rate of inactivating Ca2+ (1/(uM s)).
    O_beta, O_N, Omega_N, K_KC, zeta : float
        Glutamate-driven IP3 production: maximal PLC-beta rate (uM/s), receptor binding rate
        (1/(uM s)), inactivation rate (1/s), PKC's Ca2+ affinity (uM) and its maximal reduction of
        the receptors' affinity.
    O_delta, kappa_delta, K_delta : float
        Ca2+-driven IP3 production by PLC-delta: maximal rate (uM/s), IP3 inhibition constant and
        Ca2+ affinity (uM).
    Omega_5P, O_3K, K_D, K_3K : float
        IP3 degradation: IP-5P rate (1/s), maximal IP3-3K rate (uM/s), its Ca2+ and IP3 affinities (uM).
    time_scale : float
        Every rate above is multiplied by this. 1 gives the published whole-cell kinetics, whose
        slowest mode decays in about 5 s; the default 10 is the faster Ca2+ signalling of the fine
        processes that ensheathe synapses (microdomain Ca2+ rises within a few hundred ms of
        neuronal activity). The head's loop settles in about 25 / time_scale s (with
        gliotransmission_rate 6 * time_scale per second).
    glutamate_clearance : float
        Omega_c, the clearance rate of the glutamate the row's synapses release (1/s).
    glutamate_set_point : float
        Y_set, the astrocyte's mean glutamate (uM) when the row releases at its set point R_set:
        each release adds Y_set Omega_c / R_set. 10 uM half-activates the receptors, where the
        Ca2+ response is steepest.
    gliotransmission_rate : float
        kappa_g, the gain of the integral action (1/s): the depression grows at
        kappa_g (C - C_set) / C_set (see ``equations.GCHI_COUPLING``).
    settle : float
        Settling time of the head before its read window (s), replacing ``HeadParameters.settle``.
    """

    O_P: float = 0.9
    K_P: float = 0.05
    C_T: float = 2.0
    rho_A: float = 0.18
    Omega_C: float = 6.0
    Omega_L: float = 0.1
    d_1: float = 0.13
    d_2: float = 1.05
    O_2: float = 0.2
    d_3: float = 0.9434
    d_5: float = 0.08
    O_beta: float = 0.5
    O_N: float = 0.3
    Omega_N: float = 0.5
    K_KC: float = 0.5
    zeta: float = 10.0
    O_delta: float = 1.2
    kappa_delta: float = 1.5
    K_delta: float = 0.1
    Omega_5P: float = 0.05
    K_D: float = 0.7
    K_3K: float = 1.0
    O_3K: float = 4.5
    time_scale: float = 10.0
    glutamate_clearance: float = 40.0
    glutamate_set_point: float = 10.0
    gliotransmission_rate: float = 60.0
    settle: float = 2.5

    UNITS = UNITS
    RATES = RATE_PARAMETERS


def gchi_derivatives(state, glutamate, parameters=GChIParameters()):
    """Time derivatives of (Gamma_A, I, C, h) under glutamate Y (uM), per second (see the module
    docstring); ``state`` has shape (4, ...)."""
    p = parameters.model()
    gamma, ip3, calcium, h = state
    active = np.clip(gamma, 0.0, 1.0)
    d_gamma = (p["O_N"] * glutamate * (1 - active)
               - p["Omega_N"] * (1 + p["zeta"] * calcium / (calcium + p["K_KC"])) * active)
    production = (p["O_beta"] * gamma
                  + p["O_delta"] / (1 + ip3 / p["kappa_delta"]) * calcium ** 2 / (calcium ** 2 + p["K_delta"] ** 2))
    degradation = (p["O_3K"] * calcium ** 4 / (calcium ** 4 + p["K_D"] ** 4) * ip3 / (ip3 + p["K_3K"])
                   + p["Omega_5P"] * ip3)
    m_inf = ip3 / (ip3 + p["d_1"]) * calcium / (calcium + p["d_5"])
    q_2 = p["d_2"] * (ip3 + p["d_1"]) / (ip3 + p["d_3"])
    er = p["C_T"] - (1 + p["rho_A"]) * calcium
    d_calcium = ((p["Omega_C"] * m_inf ** 3 * h ** 3 + p["Omega_L"]) * er
                 - p["O_P"] * calcium ** 2 / (calcium ** 2 + p["K_P"] ** 2))
    d_h = (q_2 / (q_2 + calcium) - h) * p["O_2"] * (q_2 + calcium)
    return np.array([d_gamma, production - degradation, d_calcium, d_h])


def steady_state(glutamate, parameters=GChIParameters()):
    """The resting state (Gamma_A, I, C, h) under constant glutamate (uM): integrated from a low-Ca2+
    start for 200 / time_scale s, then polished by Newton's method (SciPy ``fsolve``)."""
    from scipy.integrate import solve_ivp
    from scipy.optimize import fsolve

    start = np.array([0.0, 0.05, 0.05, 0.9])
    path = solve_ivp(lambda t, x: gchi_derivatives(x, glutamate, parameters), (0.0, 200.0 / parameters.time_scale),
                     start, method="LSODA", rtol=1e-9, atol=1e-12)
    state, _, converged, message = fsolve(lambda x: gchi_derivatives(x, glutamate, parameters), path.y[:, -1],
                                          xtol=1e-13, full_output=True)
    if converged != 1:
        raise RuntimeError(f"no G-ChI steady state found at glutamate {glutamate:g} uM: {message}")
    return state


@lru_cache(maxsize=16)
def set_point_state(parameters=GChIParameters()):
    """The resting state (Gamma_A, I, C, h) under the glutamate set point ``glutamate_set_point``:
    where the head's astrocytes start, and whose C is the loop's C_set (computed once per parameters)."""
    return tuple(steady_state(parameters.glutamate_set_point, parameters))


def eigenvalues(glutamate, parameters=GChIParameters()):
    """Eigenvalues (1/s) of the model linearised at its steady state under constant glutamate:
    all with negative real part means that state is stable (no Ca2+ oscillations there)."""
    state = steady_state(glutamate, parameters)
    return np.linalg.eigvals(jacobian(lambda x: gchi_derivatives(x, glutamate, parameters), state))


# ``glutamate`` is what the astrocyte sees; the coupling below, or a test's input, declares it.
GCHI = Equations(
    """
    dGamma_A/dt = O_N * glutamate * (1 - clip(Gamma_A, 0, 1))
                  - Omega_N * (1 + zeta * C / (C + K_KC)) * clip(Gamma_A, 0, 1) : 1
    dI/dt = J_beta + J_delta - J_3K - J_5P : mmolar
    J_beta = O_beta * Gamma_A : mmolar/second
    J_delta = O_delta / (1 + I / kappa_delta) * C**2 / (C**2 + K_delta**2) : mmolar/second
    J_3K = O_3K * C**4 / (C**4 + K_D**4) * I / (I + K_3K) : mmolar/second
    J_5P = Omega_5P * I : mmolar/second
    dC/dt = J_r + J_l - J_p : mmolar
    dh/dt = (h_inf - h) / tau_h : 1
    J_r = Omega_C * m_inf**3 * h**3 * (C_T - (1 + rho_A) * C) : mmolar/second
    J_l = Omega_L * (C_T - (1 + rho_A) * C) : mmolar/second
    J_p = O_P * C**2 / (C**2 + K_P**2) : mmolar/second
    m_inf = I / (I + d_1) * C / (C + d_5) : 1
    h_inf = Q_2 / (Q_2 + C) : 1
    tau_h = 1 / (O_2 * (Q_2 + C)) : second
    Q_2 = d_2 * (I + d_1) / (I + d_3) : mmolar
    """
)
# The G-ChI astrocyte of a softmax row: the glutamate its synapses release, cleared at Omega_c, and
# the depression it applies through gliotransmission, integrating its Ca2+ error.
GCHI_COUPLING = Equations(
    """
    dglutamate/dt = -glutamate_clearance * glutamate : mmolar
    glutamate_quantum : mmolar (constant)
    ddepression/dt = gliotransmission_rate * (C - C_set) / C_set : 1
    """
) + READOUT
RELEASE_ON_PRE = "glutamate_post += spread * glutamate_quantum_post"


class GChIAstrocyte(AstrocyteModel):
    """G-ChI astrocytes, started at their resting state under the set-point glutamate: each release
    adds Y_set Omega_c / R_set of glutamate (so the row's mean glutamate is Y_set at R_set)."""

    name = "gchi"
    description = "the G-ChI calcium astrocyte (receptors, IP3, Ca2+, IP3-receptor gating), fed glutamate"
    title = "G-ChI"
    summary_key = "calcium"

    def __init__(self, parameters=GChIParameters()):
        super().__init__(parameters)

    def with_settle(self, settle):
        return GChIAstrocyte(replace(self.parameters, settle=settle))

    def namespace(self, head):
        """The model's constants and the loop's, among them C_set, the Ca2+ of the resting state at the
        glutamate set point (computed from the parameters only)."""
        calcium = self.parameters
        return {
            **calcium.namespace(),
            "glutamate_clearance": calcium.glutamate_clearance * Hz,
            "gliotransmission_rate": calcium.gliotransmission_rate * Hz,
            "C_set": set_point_state(calcium)[2] * umolar,
        }

    def group(self, set_point, head, feedback):
        calcium = self.parameters
        astrocytes = NeuronGroup(len(set_point), GCHI + GCHI_COUPLING, method="rk4", name="astrocytes")
        gamma, ip3, ca, h = set_point_state(calcium)
        astrocytes.Gamma_A, astrocytes.I, astrocytes.C, astrocytes.h = gamma, ip3 * umolar, ca * umolar, h
        astrocytes.glutamate = calcium.glutamate_set_point * umolar
        astrocytes.glutamate_quantum = calcium.glutamate_set_point * calcium.glutamate_clearance / set_point * umolar
        return astrocytes, RELEASE_ON_PRE


MODEL = GChIAstrocyte()
