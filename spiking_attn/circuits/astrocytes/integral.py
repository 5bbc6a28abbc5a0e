"""The integral-controller astrocyte (``--astrocyte-model integral``, the default; docs/model.md §3.4).

Each release at a tripartite synapse of the row (score neuron -> attention neuron) reaches the row's
astrocyte (``release_to_astrocyte``) and raises its depression c_t by a quantum delta_t; c_t recovers
at a constant rate kappa (``HeadParameters.feedback_rate``)::

    dc_t/dt = -kappa,    on each release of row t: c_t += delta_t,
    delta_t = kappa / R_set,t,    R_set,t = n_score * r_score * K_t      (K_t: keys of row t)

(R_set,t is kept between R_att,t and n_score / (2 dt), see ``HeadParameters.set_point``: a pair
carrying all the row's weight never saturates). c_t stays bounded only if the row's releases average
kappa / delta_t = R_set,t, so at steady state sum_j n_score r_score exp(s_tj - c_t) = R_set,t whatever
the scores are: exp(c_t) = Z_t / Z0_t with Z0_t = R_set,t / (n_score r_score) (= K_t for rows of 7 to
125 keys), and every score neuron fires at R_set,t A_tj / n_score. The normalisation comes from the
loop (integral action has no steady-state error); each pair's rate keeps the ratio exp(s_tj) of the
others exactly, because c_t is common to the row. Linearised, c_t relaxes with time constant
1 / kappa; while the row is far above its set point c_t climbs at up to kappa / (r_score dt), and it
falls at kappa when the row is silent. The decoded normaliser is Z_t = Z0_t / <exp(-c_t)> over the
read window (``inverse_normaliser``; the harmonic form is exact for a fluctuating c_t). With the
astrocyte off (ablation) kappa = 0 and nothing reaches the astrocyte: c_t = 0, rows are not
normalised.

Biologically, c_t is the astrocyte's depression of the synapses it ensheathes (ATP released by the
astrocyte, hydrolysed to adenosine, acting on presynaptic A1 receptors: broad, slow,
activity-dependent heterosynaptic depression), read here as a shunt of the dendrites of the row. It
settles in ``HeadParameters.settle`` (0.5 s).
"""
from brian2 import Equations, Hz, NeuronGroup

from .base import READOUT, AstrocyteModel

ASTROCYTE = Equations(
    """
    ddepression/dt = -recovery : 1
    recovery : Hz (constant)
    release_quantum : 1 (constant)
    """
) + READOUT
RELEASE_ON_PRE = "depression_post += spread * release_quantum_post"


class IntegralAstrocyte(AstrocyteModel):
    """The counting astrocyte: each release raises the depression by kappa / R_set; it recovers at kappa."""

    name = "integral"
    description = "the integral controller, which counts the row's releases"
    blockable = True

    def settle(self, head):
        return head.settle

    def with_settle(self, settle):
        return self  # its settling time is the head's (HeadParameters.settle)

    def namespace(self, head):
        return {}

    def group(self, set_point, head, feedback):
        astrocytes = NeuronGroup(len(set_point), ASTROCYTE, method="euler", name="astrocytes")
        astrocytes.release_quantum = head.feedback_rate / set_point
        astrocytes.recovery = (head.feedback_rate if feedback else 0.0) * Hz
        return astrocytes, RELEASE_ON_PRE


MODEL = IntegralAstrocyte()
