"""Parameters shared by every circuit (plain floats in SI units: seconds, volts, hertz)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class CommonParameters:
    """What every circuit has: the time step, the neurons' threshold, the LIF input encoding,
    the dendrites' exponential slope and the astrocyte's time constant.

    Attributes
    ----------
    dt : float
        Simulation time step (s).
    v_theta : float
        Firing threshold of every neuron, measured from rest (V).
    tau_in : float
        Membrane time constant of the LIF input neurons (s).
    input_rate : float
        Rate of the busiest input neuron of the problem (Hz); it sets the encoding gain.
    delta_u : float
        Slope of the exponential dendritic current (V).
    tau_a : float
        Astrocyte integration time constant (s).
    """

    dt: float = 0.1e-3
    v_theta: float = 10e-3
    tau_in: float = 20e-3
    input_rate: float = 1000.0
    delta_u: float = 2e-3
    tau_a: float = 100e-3

