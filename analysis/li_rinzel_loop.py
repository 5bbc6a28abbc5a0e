"""How fast the Li-Rinzel astrocyte's loop settles: its rate model, for rows far above and below their set point.

The loop of docs/model.md §3.4b with the release rate of a row written as R_set (Z/Z0) exp(-c): IP3
made by the releases (mean IP3_set at R_set), the Li-Rinzel Ca2+ and h (the NumPy model of
spiking_attn.circuits.astrocytes.li_rinzel), and the depression c integrating the chosen gliotransmission
law, from the resting state at c = 0. For each row ratio Z/Z0 it prints the time after which the
release rate stays within --tolerance of R_set, for the head's parameters and for variants (NEST's IP3
lifetime at the same time scale; the relative Ca2+ error instead of its logarithm; other gains).

    python analysis/li_rinzel_loop.py [--ratios 0.05 0.2 0.5 2 10 100 600 3000] [--tolerance 0.01] [--seconds 8]
"""
import numpy as np

from spiking_attn.arguments import Parser
from spiking_attn.circuits.astrocytes.li_rinzel import LiRinzelParameters, li_rinzel_derivatives, set_point_state
from spiking_attn.errors import exit_on_input_error
from spiking_attn.option import positive_float

VARIANTS = {
    "head (tau_IP3 40 ms, ln law, kappa_g 8/s)": (LiRinzelParameters(), "log"),
    "NEST's IP3 lifetime / 20 (0.36 s), kappa_g 2/s": (LiRinzelParameters(tau_IP3=7.142 / 20,
                                                                         gliotransmission_rate=2.0), "log"),
    "NEST's IP3 lifetime / 20 (0.36 s), kappa_g 8/s": (LiRinzelParameters(tau_IP3=7.142 / 20), "log"),
    "relative Ca2+ error instead of ln, kappa_g 4/s": (LiRinzelParameters(gliotransmission_rate=4.0), "relative"),
    "time_scale 10 (tau_IP3 40 ms, ln law, kappa_g 8/s)": (LiRinzelParameters(time_scale=10.0), "log"),
}
DT = 2e-4  # s: forward Euler; the fastest mode at time_scale 20 decays at 35/s


def settling_times(ratios, parameters, law, seconds, tolerance):
    """The time (s) after which each row's release rate stays within ``tolerance`` of R_set (``seconds``
    if it never does), for rows whose Z/Z0 are ``ratios``, all started at rest with c = 0."""
    ip3_set, calcium_set, h_set = set_point_state(parameters)
    state = np.tile(np.array([ip3_set, calcium_set, h_set])[:, None], (1, ratios.size))
    production = (parameters.IP3_set - parameters.IP3_0) / parameters.tau_IP3  # at R_set (uM/s)
    depression = np.zeros(ratios.size)
    last_outside = np.zeros(ratios.size)
    for step in range(int(round(seconds / DT))):
        rate = ratios * np.exp(-depression)  # R / R_set
        state = state + DT * li_rinzel_derivatives(state, production * rate, parameters)
        error = np.log(state[1] / calcium_set) if law == "log" else state[1] / calcium_set - 1
        depression = depression + DT * parameters.gliotransmission_rate * error
        last_outside[np.abs(rate - 1) > tolerance] = (step + 1) * DT
    return last_outside


def main():
    parser = Parser(description="settling of the Li-Rinzel loop's rate model")
    parser.add_argument("--ratios", type=positive_float, nargs="+", default=[0.05, 0.2, 0.5, 2, 10, 100, 600, 3000],
                        help="rows' Z / Z0 (default 0.05 to 3000)")
    parser.add_argument("--tolerance", type=positive_float, default=0.01, help="relative (default 0.01)")
    parser.add_argument("--seconds", type=positive_float, default=8.0, help="simulated seconds (default 8)")
    args = parser.parse_args()
    ratios = np.array(args.ratios)
    print("settling time (s) to within {:g} % of the set point, per Z/Z0: {}".format(
        100 * args.tolerance, " ".join(f"{ratio:g}" for ratio in ratios)))
    for label, (parameters, law) in VARIANTS.items():
        times = settling_times(ratios, parameters, law, args.seconds, args.tolerance)
        shown = " ".join(f"{time:.2f}" if time < args.seconds else f">{args.seconds:g}" for time in times)
        print(f"{label}: {shown}; slowest {times.max():.2f}", flush=True)


if __name__ == "__main__":
    exit_on_input_error(main)
