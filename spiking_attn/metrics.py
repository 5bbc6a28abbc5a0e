"""Metrics of decoded attention against exact softmax attention, as pandas tables.

With A the exact and A_hat the decoded attention (T_q x T_k per head), y and y_hat the outputs and Z and
Z_hat the normalisers; every row of every head is one row (t runs over all of them):

    row_tv_mean          mean_t 1/2 sum_j |A_hat_tj - A_tj|        (total-variation distance)
    row_tv_max           max_t of the same
    max_abs_error        max_tj |A_hat_tj - A_tj|
    rmse                 sqrt(mean_tj (A_hat_tj - A_tj)^2)
    row_kl_mean          mean_t sum_j [A_hat log(A_hat / A) - A_hat + A]
                         (generalised KL divergence of the unnormalised decoded row from the
                         exact row; finite when a decoded entry is 0)
    argmax_agreement     fraction of rows whose largest entry is at the same key
    row_sum_error_max    max_t |sum_j A_hat_tj - 1|
    row_sum_error_mean   mean_t |sum_j A_hat_tj - 1|   (the part of the error common to a row: what
                         per-query factors leave, and the normalising loop removes when it works)
    within_row_tv_mean   mean_t 1/2 sum_j |A_hat_tj / sum_k A_hat_tk - A_tj|   (the error in the ratios
                         within a row: what per-key factors leave, which no normalisation removes)
    output_rel_error     ||y_hat - y||_F / ||y||_F   (the absolute error when y = 0)
    normaliser_rel_error mean_t |Z_hat_t / Z_t - 1|
    head_tv_max          largest over heads of the head's mean row TV
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
    "row_sum_error_mean": "mean |row sum - 1| (per-query part of the error)",
    "within_row_tv_mean": "mean row TV after dividing each decoded row by its sum (per-key part)",
    "output_rel_error": "relative L2 error of the output y",
    "normaliser_rel_error": "mean relative error of Z",
    "head_tv_max": "largest mean row TV of a head",
    "z_rel_error": "mean |astrocyte response / Z - 1|",
    "z_corr": "correlation of astrocyte response and Z across tokens",
    "astrocyte_rate_model_corr": "correlation of astrocyte response and rate-model a_t",
    "astrocyte_rate_model_rel_error": "mean |astrocyte response / rate-model a_t - 1|",
    "rate_model_output_rel_error": "relative L2 error of y against the rate model",
    "rate_model_attention_tv": "mean row TV of A_hat against the rate model",
    "rate_model_tv": "mean row TV of the rate model against exact softmax",
    "rate_model_output_exact_rel_error": "relative L2 error of the rate model's y against exact",
    "signed_rate_model_tv": "mean row TV of the signed-map rate model against exact softmax",
    "signed_rate_model_output_rel_error": "relative L2 error of the signed-map rate model's y against exact",
    "signed_rate_model_z_rel_error": "mean |signed-map rate-model a_t / Z - 1|",
}


def _mean_row_tv(a, b):
    return float(0.5 * np.abs(a - b).sum(axis=1).mean())


def _relative_l2(a, b):
    norm = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / norm if norm > 0 else np.linalg.norm(a - b))


def _correlation(a, b):
    """Pearson correlation across tokens; NaN (undefined) for one token or a constant series."""
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _generalised_kl(decoded, exact):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(decoded > 0, decoded * np.log(decoded / exact), 0.0) - decoded + exact
    return terms.sum(axis=1)


def _rows(array):
    """An array of shape (..., T_q, X) as rows (-1, X); a vector of shape (..., T_q) as (-1,)."""
    return np.reshape(array, (-1, np.shape(array)[-1]))


def row_table(exact, decoded):
    """Per-row errors as a tidy DataFrame (one row per query token of each head).

    Parameters
    ----------
    exact : spiking_attn.reference.Attention
    decoded : spiking_attn.decoding.Decoded

    Returns
    -------
    pandas.DataFrame
        Columns ``head``, ``token``, ``row_tv``, ``row_tv_within`` (the TV of the decoded row divided
        by its sum; the whole row is off when it sums to 0), ``row_sum``, ``row_kl``, ``argmax_exact``,
        ``argmax_decoded``, ``z_exact``, ``z_decoded``.
    """
    A, A_hat = _rows(exact.attention), _rows(decoded.attention)
    sums = A_hat.sum(axis=1)
    shape = A_hat / np.where(sums > 0, sums, 1.0)[:, None]
    query_tokens = exact.attention.shape[-2]
    rows = np.arange(A.shape[0])
    return pd.DataFrame({
        "head": rows // query_tokens,
        "token": rows % query_tokens,
        "row_tv": 0.5 * np.abs(A_hat - A).sum(axis=1),
        "row_tv_within": 0.5 * np.abs(shape - A).sum(axis=1),
        "row_sum": sums,
        "row_kl": _generalised_kl(A_hat, A),
        "argmax_exact": A.argmax(axis=1),
        "argmax_decoded": A_hat.argmax(axis=1),
        "z_exact": np.ravel(exact.normaliser),
        "z_decoded": np.ravel(decoded.normaliser),
    })


def attention_metrics(exact, decoded):
    """Scalar metrics of ``decoded`` against ``exact`` (see the module docstring).

    Returns
    -------
    dict of str -> float
    """
    rows = row_table(exact, decoded)
    error = _rows(decoded.attention) - _rows(exact.attention)
    return {
        "row_tv_mean": float(rows.row_tv.mean()),
        "row_tv_max": float(rows.row_tv.max()),
        "max_abs_error": float(np.abs(error).max()),
        "rmse": float(np.sqrt(np.mean(error ** 2))),
        "row_kl_mean": float(rows.row_kl.mean()),
        "argmax_agreement": float(np.mean(rows.argmax_exact == rows.argmax_decoded)),
        "row_sum_error_max": float(np.abs(rows.row_sum - 1).max()),
        "row_sum_error_mean": float(np.abs(rows.row_sum - 1).mean()),
        "within_row_tv_mean": float(rows.row_tv_within.mean()),
        "output_rel_error": _relative_l2(decoded.output, exact.output),
        "normaliser_rel_error": float(np.mean(np.abs(rows.z_decoded / rows.z_exact - 1))),
        "head_tv_max": float(rows.groupby("head").row_tv.mean().max()),
    }


def rate_model_metrics(exact, decoded, rate_model):
    """The random-feature network against its rate model and the rate model against exact softmax.

    Parameters
    ----------
    exact : spiking_attn.reference.Attention
    decoded : spiking_attn.decoding.Decoded
        Its ``normaliser`` is the decoded astrocyte response.
    rate_model : spiking_attn.features.RateModel

    Returns
    -------
    dict of str -> float
        z_rel_error, z_corr, astrocyte_rate_model_corr, astrocyte_rate_model_rel_error,
        rate_model_output_rel_error, rate_model_attention_tv, rate_model_tv,
        rate_model_output_exact_rel_error (see :data:`METRIC_DESCRIPTIONS`). A metric that is
        undefined for the problem is NaN (a correlation across one token or a constant series);
        ``summary.json`` writes it as null.
    """
    response = decoded.normaliser
    return {
        "z_rel_error": float(np.mean(np.abs(response / exact.normaliser - 1))),
        "z_corr": _correlation(response, exact.normaliser),
        "astrocyte_rate_model_corr": _correlation(response, rate_model.astrocyte),
        "astrocyte_rate_model_rel_error": float(np.mean(np.abs(response / rate_model.astrocyte - 1))),
        "rate_model_output_rel_error": _relative_l2(decoded.output, rate_model.output),
        "rate_model_attention_tv": _mean_row_tv(decoded.attention, rate_model.attention),
        "rate_model_tv": _mean_row_tv(rate_model.attention, exact.attention),
        "rate_model_output_exact_rel_error": _relative_l2(rate_model.output, exact.output),
    }


def signed_rate_model_metrics(exact, signed):
    """The paper's rate model with the signed feature map (not the on/off pairs the circuit realises)
    against exact softmax: signed_rate_model_tv, signed_rate_model_output_rel_error,
    signed_rate_model_z_rel_error. A reference for the random-feature network; nothing of it enters it."""
    return {
        "signed_rate_model_tv": _mean_row_tv(signed.attention, exact.attention),
        "signed_rate_model_output_rel_error": _relative_l2(signed.output, exact.output),
        "signed_rate_model_z_rel_error": float(np.mean(np.abs(signed.astrocyte / exact.normaliser - 1))),
    }


def metrics_table(metrics):
    """The scalar metrics as a tidy DataFrame with columns ``metric``, ``value``, ``description``."""
    return pd.DataFrame({
        "metric": list(metrics),
        "value": list(metrics.values()),
        "description": [METRIC_DESCRIPTIONS[name] for name in metrics],
    })
