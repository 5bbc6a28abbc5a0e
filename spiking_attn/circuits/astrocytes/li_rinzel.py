"""The Li-Rinzel astrocyte (``--astrocyte-model li-rinzel``; docs/model.md §3.4b): its parameters, its
Brian2 equations, the same model in NumPy, and its place in the softmax head's loop.

The model (Li & Rinzel 1994, J. Theor. Biol. 166:461, the two-variable reduction of the De Young-Keizer
IP3 receptor; with the IP3 dynamics of Nadkarni & Jung 2003, as NEST's ``astrocyte_lr_1994``). State:
cytosolic IP3 ``IP3`` (uM), cytosolic Ca2+ ``C`` (uM) and the fraction of IP3 receptors not inactivated
by Ca2+, h; J_IP3 is the IP3 the astrocyte makes from its input (uM/s)::

    dIP3/dt = (IP3_0 - IP3) / tau_IP3 + J_IP3
    dC/dt   = r_ER v_IP3R m_inf^3 n_inf^3 h^3 (C_ER - C)          (Ca2+ release through IP3 receptors)
              - v_SERCA C^2 / (K_SERCA^2 + C^2)                    (uptake into the ER)
              + r_ER v_L (C_ER - C)                                (leak from the ER)
    dh/dt   = alpha_h (1 - h) - beta_h h
    C_ER = C_tot + (C_tot - C) / r_ER,   m_inf = IP3 / (IP3 + d_1),   n_inf = C / (C + d_5),
    alpha_h = k_IP3R d_2 (IP3 + d_1) / (IP3 + d_3),   beta_h = k_IP3R C

In the softmax head (``LI_RINZEL_COUPLING``) every release of the row adds an IP3 quantum (as a spike
adds delta_IP3 in NEST's model), and gliotransmission integrates the logarithm of the Ca2+ ratio::

    on each release of row t: IP3 += (IP3_set - IP3_0) / (tau_IP3 R_set,t)   (mean IP3 = IP3_set at R_set,t)
    dc_t/dt = kappa_g ln(C / C_set),   C_set = resting Ca2+ under IP3 = IP3_set

Ca2+ grows monotonically with IP3 (from 0.06 uM without IP3 to 0.93 uM at 10 uM), so c_t is bounded
only where the row releases at R_set,t on average: the same steady state as the integral astrocyte's.
At the set point (IP3 0.2 uM, C_set 0.10 uM) the resting state is a stable node (real eigenvalues:
no Ca2+ oscillations); between about 0.31 and 0.55 uM of IP3 it is unstable and Ca2+ oscillates
(:func:`eigenvalues`), a range the loop crosses only in transients. The logarithm makes the climb and the
fall of c_t comparable (Ca2+ spans a factor of 15), which lets the loop settle in 3 s for rows whose
offset log(Z_t / Z0_t) is anywhere from -3 to 8.
"""
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from brian2 import Equations, Hz, NeuronGroup, second, umolar

from .base import READOUT, AstrocyteModel, ScaledRates, jacobian

# The parameters that are rates of the Ca2+ dynamics (they scale with ``time_scale``).
RATE_PARAMETERS = ("k_IP3R", "rate_IP3R", "rate_L", "rate_SERCA")
# Units of the model's parameters for Brian2: concentrations in uM; rates in 1/s, uM/s or 1/(uM s).
UNITS = {"Ca_tot": umolar, "ratio_ER_cyt": 1, "Kd_IP3_1": umolar, "Kd_IP3_2": umolar, "Kd_act": umolar,
         "Kd_inh": umolar, "Km_SERCA": umolar, "k_IP3R": 1 / (umolar * second), "rate_IP3R": 1 / second,
         "rate_L": 1 / second, "rate_SERCA": umolar / second, "tau_IP3": second, "IP3_0": umolar}


@dataclass(frozen=True)
class LiRinzelParameters(ScaledRates):
    """The Li-Rinzel astrocyte and its coupling to the softmax head (concentrations in uM, rates in SI).

    The first group are the values of NEST's ``astrocyte_lr_1994`` (after Nadkarni & Jung 2003; its
    names, its rates converted from 1/ms to 1/s); every rate among them is multiplied by ``time_scale``.

    Attributes
    ----------
    Ca_tot, ratio_ER_cyt : float
        C_tot, total free Ca2+ (uM), and r_ER, the ER-to-cytosol volume ratio.
    Kd_IP3_1, Kd_IP3_2, Kd_act, Kd_inh : float
        d_1, d_3, d_5 and d_2: the IP3 receptor's dissociation constants of IP3 (first and second), of
        activating Ca2+ and of inhibiting Ca2+ (uM).
    Km_SERCA : float
        K_SERCA, the SERCA pump's Ca2+ affinity (uM).
    k_IP3R : float
        The binding rate of inhibiting Ca2+ (1/(uM s)).
    rate_IP3R, rate_L, rate_SERCA : float
        v_IP3R and v_L, the maximal release rate through IP3 receptors and the ER leak rate (1/s), and
        v_SERCA, the maximal uptake rate (uM/s).
    time_scale : float
        Every rate above is multiplied by this: 1 gives the published whole-cell kinetics (the slowest
        Ca2+ mode at the set point decays in about 6 s); the default 20 is the fast Ca2+ signalling of
        the fine processes that ensheathe synapses.
    tau_IP3 : float
        IP3's lifetime in the process (s): NEST's whole-cell value is 7.1 s; a process of a micrometre
        loses IP3 to diffusion and degradation in tens of milliseconds, and the loop settles only if
        IP3 follows the release rate that fast.
    IP3_0 : float
        The IP3 the process holds without input (uM).
    IP3_set : float
        The mean IP3 (uM) when the row releases at its set point R_set: each release adds
        IP3_set / (tau_IP3 R_set). 0.2 uM lies below the oscillating range, where the resting state is a
        stable node.
    gliotransmission_rate : float
        kappa_g, the gain of the integral action (1/s): the depression grows at kappa_g ln(C / C_set).
    settle : float
        Settling time of the head before its read window (s), replacing ``HeadParameters.settle``.
    """

    Ca_tot: float = 2.0
    ratio_ER_cyt: float = 0.185
    Kd_IP3_1: float = 0.13
    Kd_IP3_2: float = 0.9434
    Kd_act: float = 0.08234
    Kd_inh: float = 1.049
    Km_SERCA: float = 0.1
    k_IP3R: float = 0.2
    rate_IP3R: float = 6.0
    rate_L: float = 0.11
    rate_SERCA: float = 0.9
    time_scale: float = 20.0
    tau_IP3: float = 0.04
    IP3_0: float = 0.0
    IP3_set: float = 0.2
    gliotransmission_rate: float = 8.0
    settle: float = 3.0

    UNITS = UNITS
    RATES = RATE_PARAMETERS


def li_rinzel_derivatives(state, ip3_production, parameters=LiRinzelParameters()):
    """Time derivatives of (IP3, C, h) under the IP3 production J_IP3 (uM/s), per second (see the module
    docstring); ``state`` has shape (3, ...)."""
    p = parameters.model()
    ip3, calcium, h = state
    er = p["Ca_tot"] + (p["Ca_tot"] - calcium) / p["ratio_ER_cyt"] - calcium  # C_ER - C
    m_inf = ip3 / (ip3 + p["Kd_IP3_1"])
    n_inf = calcium / (calcium + p["Kd_act"])
    channel = p["ratio_ER_cyt"] * p["rate_IP3R"] * m_inf ** 3 * n_inf ** 3 * h ** 3 * er
    pump = p["rate_SERCA"] * calcium ** 2 / (p["Km_SERCA"] ** 2 + calcium ** 2)
    leak = p["ratio_ER_cyt"] * p["rate_L"] * er
    alpha = p["k_IP3R"] * p["Kd_inh"] * (ip3 + p["Kd_IP3_1"]) / (ip3 + p["Kd_IP3_2"])
    d_h = alpha * (1 - h) - p["k_IP3R"] * calcium * h
    return np.array([(p["IP3_0"] - ip3) / p["tau_IP3"] + ip3_production, channel - pump + leak, d_h])


def steady_state(ip3, parameters=LiRinzelParameters()):
    """The resting state (IP3, C, h) with IP3 held at ``ip3`` (uM): h at its equilibrium for C, and the
    C (between 0 and C_tot) where dC/dt = 0 (SciPy ``brentq``; the root is unique)."""
    from scipy.optimize import brentq

    p = parameters.model()
    alpha = p["k_IP3R"] * p["Kd_inh"] * (ip3 + p["Kd_IP3_1"]) / (ip3 + p["Kd_IP3_2"])

    def gate(calcium):
        return alpha / (alpha + p["k_IP3R"] * calcium)

    def calcium_rate(calcium):
        return li_rinzel_derivatives(np.array([ip3, calcium, gate(calcium)]), 0.0, parameters)[1]

    calcium = brentq(calcium_rate, 1e-9, p["Ca_tot"], xtol=1e-15, rtol=1e-14)
    return np.array([ip3, calcium, gate(calcium)])


@lru_cache(maxsize=16)
def set_point_state(parameters=LiRinzelParameters()):
    """The resting state (IP3, C, h) at IP3 = ``IP3_set``: where the head's astrocytes start, and whose
    C is the loop's C_set."""
    return tuple(steady_state(parameters.IP3_set, parameters))


def eigenvalues(ip3, parameters=LiRinzelParameters()):
    """Eigenvalues (1/s) of the Ca2+ and h dynamics linearised at the resting state with IP3 held at
    ``ip3``: all with negative real part means that state is stable (no Ca2+ oscillations), all real
    means it is a node (no damped ringing either)."""
    state = steady_state(ip3, parameters)
    return np.linalg.eigvals(jacobian(lambda x: li_rinzel_derivatives(x, 0.0, parameters), state, variables=(1, 2)))


# ``J_IP3`` is the IP3 the astrocyte makes from its input; the coupling below, or a test's input, declares it.
LI_RINZEL = Equations(
    """
    dIP3/dt = (IP3_0 - IP3) / tau_IP3 + J_IP3 : mmolar
    dC/dt = J_channel - J_pump + J_leak : mmolar
    dh/dt = alpha_h * (1 - h) - beta_h * h : 1
    J_channel = ratio_ER_cyt * rate_IP3R * m_inf**3 * n_inf**3 * h**3 * (C_ER - C) : mmolar/second
    J_pump = rate_SERCA * C**2 / (Km_SERCA**2 + C**2) : mmolar/second
    J_leak = ratio_ER_cyt * rate_L * (C_ER - C) : mmolar/second
    C_ER = Ca_tot + (Ca_tot - C) / ratio_ER_cyt : mmolar
    m_inf = IP3 / (IP3 + Kd_IP3_1) : 1
    n_inf = C / (C + Kd_act) : 1
    alpha_h = k_IP3R * Kd_inh * (IP3 + Kd_IP3_1) / (IP3 + Kd_IP3_2) : Hz
    beta_h = k_IP3R * C : Hz
    """
)
# The Li-Rinzel astrocyte of a softmax row: IP3 from the row's releases only, and the depression it
# applies through gliotransmission, integrating the logarithm of its Ca2+ ratio.
LI_RINZEL_COUPLING = Equations(
    """
    J_IP3 = 0 * mmolar / second : mmolar/second
    IP3_quantum : mmolar (constant)
    ddepression/dt = gliotransmission_rate * log(C / C_set) : 1
    """
) + READOUT
RELEASE_ON_PRE = "IP3_post += spread * IP3_quantum_post"


class LiRinzelAstrocyte(AstrocyteModel):
    """Li-Rinzel astrocytes, started at their resting state at the IP3 set point."""

    name = "li-rinzel"
    description = "the Li-Rinzel calcium astrocyte (IP3-driven Ca2+ release, two-variable IP3 receptor)"
    title = "Li-Rinzel"
    summary_key = "li_rinzel"

    def __init__(self, parameters=LiRinzelParameters()):
        super().__init__(parameters)

    def with_settle(self, settle):
        return LiRinzelAstrocyte(replace(self.parameters, settle=settle))

    def namespace(self, head):
        """The model's constants and the loop's, among them C_set (computed from the parameters only)."""
        return {**self.parameters.namespace(), "gliotransmission_rate": self.parameters.gliotransmission_rate * Hz,
                "C_set": set_point_state(self.parameters)[1] * umolar}

    def group(self, set_point, head, feedback):
        p = self.parameters
        astrocytes = NeuronGroup(len(set_point), LI_RINZEL + LI_RINZEL_COUPLING, method="rk4", name="astrocytes")
        ip3, calcium, h = set_point_state(p)
        astrocytes.IP3, astrocytes.C, astrocytes.h = ip3 * umolar, calcium * umolar, h
        astrocytes.IP3_quantum = (p.IP3_set - p.IP3_0) / (p.tau_IP3 * set_point) * umolar
        return astrocytes, RELEASE_ON_PRE


MODEL = LiRinzelAstrocyte()
