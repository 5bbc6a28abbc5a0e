"""Associative memory in rate models: the neuron-astrocyte memory, its dense-associative-memory limit (the one
the spiking memory builds) and the classical Hopfield network (docs/model.md §8).

Stored patterns Xi (P x N, entries +-1), a state x (N numbers), the inverse temperature beta.

*The neuron-astrocyte memory* (Kozachkov, Slotine & Krotov, arXiv 2311.08135; :class:`NeuronAstrocyteMemory`):
N neurons x_i, N^2 synapses S_ij and N^2 astrocyte processes P_ij, each with the activation tanh(beta .)
(h = tanh(beta x), g = tanh(beta S), psi = tanh(beta P)); the memories live in the processes' couplings
T_ijkl = N^-3 sum_mu xi_mu,i xi_mu,j xi_mu,k xi_mu,l:

    tau_n dx_i/dt  = -x_i  + sum_j g_ij h_j
    tau_s dS_ij/dt = -S_ij + h_i h_j + psi_ij
    tau_p dP_ij/dt = -P_ij + sum_kl T_ijkl psi_kl + g_ij

Its energy, with L(z) = log cosh(beta z) / beta summed over a layer (each layer's term z . L'(z) - L(z) is
the Legendre transform of its Lagrangian),

    E = 2 [x . h - L(x)] + [S : g - L(S)] + [P : psi - L(P)] - h^T g h - g : psi - psi : T : psi / 2

never increases: dE/dt = -2/tau_n sum h_i' (dx_i/dt tau_n)^2 - ... <= 0 for symmetric S and P (the factor 2
counts the symmetric synapse g_ij = g_ji twice).

*The dense associative memory* (:class:`DenseMemory`): the family member whose astrocyte processes are one
unit p_mu per memory with the Lagrangian L(p) = log sum_mu exp(beta p_mu) / beta, so psi = softmax(beta p):

    tau_x dx/dt = -x + Xi^T softmax(beta p)        tau_p dp/dt = -p + Xi x
    E = x . x / 2 + [p . psi - L(p)] - psi^T Xi x

With fast processes (tau_p -> 0, p = Xi x) the state descends E(x) = x . x / 2 - lse(beta Xi x) / beta, and its
discrete form is the update x <- Xi^T softmax(beta Xi x) (Ramsauer et al. 2020): attention with the state as the
query and keys = values = the patterns. The spiking memory builds the other limit, fast neurons (tau_x -> 0: its
output neurons are integrators without leak) and the dendrites as the memory units (tau_p = tau_d); both limits
have the same fixed points.

*The Hopfield network* (:func:`hopfield_retrieve`): Hebbian weights W = Xi^T Xi / N, zero diagonal, asynchronous
sign updates; it holds about 0.138 N random patterns (Amit, Gutfreund & Sompolinsky 1985).
"""
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .validation import read_npz

RETRIEVED = 0.95  # overlap of the retrieved state with a pattern that counts as retrieving it
DIGIT_THRESHOLD = 8.0  # the 8 x 8 digits' pixels (0-16) above this are +1, the others -1


def softmax(z):
    """softmax over the last axis, computed stably."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_sum_exp(z):
    """log sum exp over the last axis, computed stably."""
    z = np.asarray(z, dtype=np.float64)
    top = z.max(axis=-1)
    return top + np.log(np.exp(z - top[..., None]).sum(axis=-1))


def inverse_temperature(gain, size):
    """beta = gain / sqrt(N): with gain 1 the scores are the transformer's q . k / sqrt(D)."""
    return gain / np.sqrt(size)


# --- the dense associative memory ------------------------------------------------------------------------


def dense_update(patterns, states, beta):
    """One update x <- Xi^T softmax(beta Xi x) of each state (rows of ``states``)."""
    return softmax(beta * np.asarray(states) @ patterns.T) @ patterns


def dense_energy(patterns, states, beta):
    """E(x) = x . x / 2 - lse(beta Xi x) / beta of each state (the energy with fast processes)."""
    states = np.asarray(states, dtype=np.float64)
    return 0.5 * (states * states).sum(axis=-1) - log_sum_exp(beta * states @ patterns.T) / beta


def dense_retrieve(patterns, cues, beta, tolerance=1e-12, max_steps=10_000):
    """Iterate the update from each cue until no entry moves by more than ``tolerance``: the fixed point."""
    x = np.asarray(cues, dtype=np.float64)
    for _ in range(max_steps):
        new = dense_update(patterns, x, beta)
        if np.abs(new - x).max() <= tolerance:
            return new
        x = new
    return x


@dataclass(frozen=True)
class DenseMemory:
    """The dense associative memory in continuous time, with memory units p (module docstring).

    Attributes
    ----------
    patterns : ndarray, shape (P, N)
    beta : float
    tau_memory : float
        tau_p (s): the memory units' time constant (the spiking memory's dendrites, tau_d).
    tau_state : float
        tau_x (s); 0 makes the state follow the memory units at once, x = Xi^T softmax(beta p), as the
        spiking memory's output neurons do.
    """

    patterns: np.ndarray
    beta: float
    tau_memory: float = 40e-3
    tau_state: float = 0.0

    def readout(self, p):
        """x = Xi^T softmax(beta p): the state the memory units drive."""
        return softmax(self.beta * p) @ self.patterns

    def energy(self, x, p):
        """E = x . x / 2 + [p . psi - L(p)] - psi^T Xi x (rows of x and p: states)."""
        psi = softmax(self.beta * p)
        legendre = (p * psi).sum(axis=-1) - log_sum_exp(self.beta * p) / self.beta
        return 0.5 * (x * x).sum(axis=-1) + legendre - (psi * (x @ self.patterns.T)).sum(axis=-1)

    def run(self, cues, cue_seconds, loop_seconds, dt=1e-3, record_every=10):
        """The spiking memory's protocol: the cue drives the memory units for ``cue_seconds`` with the loop
        open (tau_p dp/dt = -p + Xi cue), then the loop closes (tau_p dp/dt = -p + Xi x) for ``loop_seconds``; with
        tau_x > 0 the state starts at the cue.

        Returns
        -------
        times : ndarray, shape (n,)
            Seconds from the start of the loop phase.
        states : ndarray, shape (n, C, N)
        energies : ndarray, shape (n, C)
            E along the closed loop (the cue phase is driven, not a descent).
        """
        cues = np.atleast_2d(np.asarray(cues, dtype=np.float64))
        p = np.zeros((cues.shape[0], self.patterns.shape[0]))
        for _ in range(int(round(cue_seconds / dt))):
            p += dt / self.tau_memory * (cues @ self.patterns.T - p)
        x = self.readout(p) if self.tau_state == 0 else cues.copy()
        times, states, energies = [], [], []
        for step in range(int(round(loop_seconds / dt)) + 1):
            if step % record_every == 0:
                times.append(step * dt)
                states.append(x.copy())
                energies.append(self.energy(x, p))
            x, p = self._step(x, p, dt)
        return np.array(times), np.array(states), np.array(energies)

    def _step(self, x, p, dt):
        """One Euler step of the closed loop."""
        p = p + dt / self.tau_memory * (x @ self.patterns.T - p)
        if self.tau_state == 0:
            return self.readout(p), p
        return x + dt / self.tau_state * (self.readout(p) - x), p


# --- the paper's neuron-astrocyte memory ------------------------------------------------------------------


@dataclass(frozen=True)
class NeuronAstrocyteMemory:
    """The neuron-astrocyte memory with its memories in the astrocyte processes' couplings (module
    docstring); time in units of its time constants (tau_n = tau_s = tau_p = 1 by default)."""

    patterns: np.ndarray
    beta: float
    tau_neuron: float = 1.0
    tau_synapse: float = 1.0
    tau_process: float = 1.0

    def process_coupling(self, psi):
        """sum_kl T_ijkl psi_kl = N^-3 sum_mu xi_mu,i xi_mu,j (xi_mu^T psi xi_mu), without forming T."""
        xi = self.patterns
        weights = np.einsum("mk,kl,ml->m", xi, psi, xi) / xi.shape[1] ** 3
        return np.einsum("m,mi,mj->ij", weights, xi, xi)

    def activations(self, x, s, p):
        return np.tanh(self.beta * x), np.tanh(self.beta * s), np.tanh(self.beta * p)

    def derivatives(self, x, s, p):
        """(dx/dt, dS/dt, dP/dt)."""
        h, g, psi = self.activations(x, s, p)
        return ((g @ h - x) / self.tau_neuron, (np.outer(h, h) + psi - s) / self.tau_synapse,
                (self.process_coupling(psi) + g - p) / self.tau_process)

    def energy(self, x, s, p):
        """E of the module docstring."""
        h, g, psi = self.activations(x, s, p)

        def legendre(z, activation):
            return (z * activation).sum() - (np.logaddexp(self.beta * z, -self.beta * z) - np.log(2)).sum() / self.beta

        interaction = h @ g @ h + (g * psi).sum() + 0.5 * (psi * self.process_coupling(psi)).sum()
        return 2 * legendre(x, h) + legendre(s, g) + legendre(p, psi) - interaction

    def run(self, cue, dt=0.01, steps=2000):
        """Euler integration from x = cue, S = P = 0; returns the final state x and the energy at every step."""
        x = np.asarray(cue, dtype=np.float64).copy()
        s = np.zeros((x.size, x.size))
        p = np.zeros_like(s)
        energies = [self.energy(x, s, p)]
        for _ in range(steps):
            dx, ds, dp = self.derivatives(x, s, p)
            x, s, p = x + dt * dx, s + dt * ds, p + dt * dp
            energies.append(self.energy(x, s, p))
        return x, np.array(energies)


# --- the Hopfield baseline -------------------------------------------------------------------------------


def hopfield_retrieve(patterns, cues, rng, max_sweeps=100):
    """The classical Hopfield network from each cue: W = Xi^T Xi / N with zero diagonal; asynchronous updates
    x_i <- sign(sum_j W_ij x_j) (+1 at 0) in a random order each sweep, until a sweep changes nothing."""
    n = patterns.shape[1]
    weights = patterns.T @ patterns / n
    np.fill_diagonal(weights, 0.0)
    states = np.array(cues, dtype=np.float64)
    for state in states:
        for _ in range(max_sweeps):
            changed = False
            for i in rng.permutation(n):
                new = 1.0 if weights[i] @ state >= 0 else -1.0
                changed |= new != state[i]
                state[i] = new
            if not changed:
                break
    return states


# --- patterns, cues and retrieval -------------------------------------------------------------------------


def random_patterns(count, size, rng):
    """``count`` random +-1 patterns of ``size`` entries."""
    return rng.choice([-1.0, 1.0], size=(count, size))


def digit_patterns(count, rng):
    """``count`` distinct images, drawn at random, of scikit-learn's 1,797 handwritten 8 x 8 digits, binarised to
    +-1 (pixel > 8 of 16); returns the patterns (count x 64) and the images' digit labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    if count > len(digits.data):
        raise InputError(f"--count {count}: there are only {len(digits.data)} digit images")
    chosen = rng.choice(len(digits.data), size=count, replace=False)
    return np.where(digits.data[chosen] > DIGIT_THRESHOLD, 1.0, -1.0), digits.target[chosen]


def check_patterns(patterns, name):
    """``patterns`` as a float64 P x N array of +-1 entries, or InputError naming what is wrong."""
    try:
        patterns = np.asarray(patterns)
    except (TypeError, ValueError):
        raise InputError(f"{name}: the patterns are of mixed sizes; every pattern needs the same N entries") from None
    if patterns.dtype.kind not in "iuf":
        raise InputError(f"{name}: the patterns hold {patterns.dtype}; they must hold numbers (+1 and -1)")
    if patterns.ndim != 2:
        raise InputError(f"{name}: the patterns must be a 2-D array (P patterns x N entries), got shape "
                         f"{patterns.shape}")
    if patterns.shape[0] == 0:
        raise InputError(f"{name}: no patterns (P = 0); store at least one")
    if patterns.shape[1] < 2:
        raise InputError(f"{name}: patterns of {patterns.shape[1]} entries; need at least 2")
    patterns = patterns.astype(np.float64)
    if not np.all(np.isfinite(patterns)):
        raise InputError(f"{name}: the patterns contain NaN or inf")
    if not np.all(np.abs(patterns) == 1):
        raise InputError(f"{name}: the patterns must hold only +1 and -1 (binarise them first)")
    return patterns


def load_patterns(path):
    """The array ``patterns`` (P x N, +-1) of an ``.npz`` file, checked."""
    arrays = read_npz(path, ("patterns",), "need patterns (P x N, entries +1 and -1)")
    return check_patterns(arrays["patterns"], str(path))


def make_cues(patterns, count, noise, rng):
    """``count`` cues, each a pattern drawn at random with round(noise N) of its entries flipped; returns the
    cues (count x N) and the index of the pattern each was made from."""
    n = patterns.shape[1]
    sources = rng.integers(patterns.shape[0], size=count)
    cues = patterns[sources].copy()
    flips = int(round(noise * n))
    for cue in cues:
        cue[rng.choice(n, size=flips, replace=False)] *= -1
    return cues, sources


def overlaps(states, patterns):
    """m = sign(x) . xi_mu / N of each state with each pattern (sign 0 counts as a mismatch)."""
    return np.sign(states) @ patterns.T / patterns.shape[1]


def retrieved(states, patterns):
    """The pattern each state retrieves: the one it overlaps most if that overlap is >= 0.95, else -1 (a
    mixture or spurious state)."""
    m = overlaps(states, patterns)
    best = m.argmax(axis=-1)
    return np.where(m.max(axis=-1) >= RETRIEVED, best, -1)


def accuracy(states, patterns, sources):
    """The fraction of states whose overlap with the pattern they were cued from is >= 0.95."""
    m = overlaps(states, patterns)
    return float(np.mean(m[np.arange(len(sources)), sources] >= RETRIEVED))


# --- capacity ---------------------------------------------------------------------------------------------


def capacity(loads, accuracies, level=0.9):
    """P_max: the load at which the retrieval accuracy first falls below ``level``, interpolated linearly in
    log P between the last load at or above it and the first below it.

    Returns
    -------
    value : float
        P_max (the largest load measured if the accuracy never falls below ``level``; the smallest if it is
        below at once).
    bound : {'measured', 'lower', 'upper'}
        'lower' when P_max is at least ``value`` (never fell below), 'upper' when it is below ``value``.
    """
    order = np.argsort(loads)
    loads, accuracies = np.asarray(loads, dtype=np.float64)[order], np.asarray(accuracies, dtype=np.float64)[order]
    below = np.flatnonzero(accuracies < level)
    if below.size == 0:
        return float(loads[-1]), "lower"
    first = below[0]
    if first == 0:
        return float(loads[0]), "upper"
    a, b = first - 1, first
    fraction = (accuracies[a] - level) / (accuracies[a] - accuracies[b])
    return float(np.exp(np.log(loads[a]) + fraction * (np.log(loads[b]) - np.log(loads[a])))), "measured"


def growth_exponent(sizes, capacities):
    """The exponent b of the least-squares fit log P_max = a + b log N, and a."""
    b, a = np.polyfit(np.log(sizes), np.log(capacities), 1)
    return float(b), float(a)
