"""Metrics of decoded attention against exact softmax attention, as pandas tables.

With A the exact and A_hat the decoded attention (T x T), y and y_hat the outputs and Z and
Z_hat the normalisers:

    row_tv_mean          mean_t 1/2 sum_j |A_hat_tj - A_tj|        (total-variation distance)
    row_tv_max           max_t of the same
    max_abs_error        max_tj |A_hat_tj - A_tj|
    rmse                 sqrt(mean_tj (A_hat_tj - A_tj)^2)
    row_kl_mean          mean_t sum_j [A_hat log(A_hat / A) - A_hat + A]
                         (generalised KL divergence of the unnormalised decoded row from the
                         exact row; finite when a decoded entry is 0)
    argmax_agreement     fraction of rows whose largest entry is at the same key
    row_sum_error_max    max_t |sum_j A_hat_tj - 1|
    output_rel_error     ||y_hat - y||_F / ||y||_F   (the absolute error when y = 0)
    normaliser_rel_error mean_t |Z_hat_t / Z_t - 1|
"""
import numpy as np
import pandas as pd

METRIC_DESCRIPTIONS = {
    "row_tv_mean": "mean row total-variation distance",
    "row_tv_max": "largest row total-variation distance",
    "max_abs_error": "largest |A_hat - A|",
    "rmse": "root-mean-square error of A_hat",
    "row_kl_mean": "mean row KL(A_hat || A), generalised",
    "argmax_agreement": "rows with the same argmax",
    "row_sum_error_max": "largest |row sum - 1|",
    "output_rel_error": "relative L2 error of the output y",
    "normaliser_rel_error": "mean relative error of Z",
}


def _generalised_kl(decoded, exact):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(decoded > 0, decoded * np.log(decoded / exact), 0.0) - decoded + exact
    return terms.sum(axis=1)


def row_table(exact, decoded):
    """Per-row errors as a tidy DataFrame (one row per query token).

    Parameters
    ----------
    exact : spiking_attn.reference.Attention
    decoded : spiking_attn.decoding.Decoded

    Returns
    -------
    pandas.DataFrame
        Columns ``token``, ``row_tv``, ``row_sum``, ``row_kl``, ``argmax_exact``,
        ``argmax_decoded``, ``z_exact``, ``z_decoded``.
    """
    A, A_hat = exact.attention, decoded.attention
    return pd.DataFrame({
        "token": np.arange(A.shape[0]),
        "row_tv": 0.5 * np.abs(A_hat - A).sum(axis=1),
        "row_sum": A_hat.sum(axis=1),
        "row_kl": _generalised_kl(A_hat, A),
        "argmax_exact": A.argmax(axis=1),
        "argmax_decoded": A_hat.argmax(axis=1),
        "z_exact": exact.normaliser,
        "z_decoded": decoded.normaliser,
    })


def attention_metrics(exact, decoded):
    """Scalar metrics of ``decoded`` against ``exact`` (see the module docstring).

    Returns
    -------
    dict of str -> float
    """
    rows = row_table(exact, decoded)
    error = decoded.attention - exact.attention
    output_error = np.linalg.norm(decoded.output - exact.output)
    output_norm = np.linalg.norm(exact.output)
    return {
        "row_tv_mean": float(rows.row_tv.mean()),
        "row_tv_max": float(rows.row_tv.max()),
        "max_abs_error": float(np.abs(error).max()),
        "rmse": float(np.sqrt(np.mean(error ** 2))),
        "row_kl_mean": float(rows.row_kl.mean()),
        "argmax_agreement": float(np.mean(rows.argmax_exact == rows.argmax_decoded)),
        "row_sum_error_max": float(np.abs(rows.row_sum - 1).max()),
        "output_rel_error": float(output_error / output_norm if output_norm > 0 else output_error),
        "normaliser_rel_error": float(np.mean(np.abs(rows.z_decoded / rows.z_exact - 1))),
    }


def metrics_table(metrics):
    """The scalar metrics as a tidy DataFrame with columns ``metric``, ``value``, ``description``."""
    return pd.DataFrame({
        "metric": list(metrics),
        "value": list(metrics.values()),
        "description": [METRIC_DESCRIPTIONS[name] for name in metrics],
    })
