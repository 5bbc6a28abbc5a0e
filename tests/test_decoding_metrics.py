import numpy as np
import pytest

from spiking_attn.decoding import Decoded, Recording, decode
from spiking_attn.metrics import attention_metrics, metrics_table
from spiking_attn.reference import Attention


def synthetic_recording():
    """T = 2, Dv = 1, R_att = 100 Hz, c = 0.5, read window [1 s, 3 s)."""
    attention_spikes = ([0] * 120 + [1] * 80 + [2] * 50 + [3] * 150,
                        [1.5] * 120 + [2.0] * 80 + [2.5] * 50 + [1.2] * 150)
    # Spikes before the window (settling) and after it must not count.
    att_i = np.array(attention_spikes[0] + [0, 3], dtype=np.int64)
    att_t = np.array(attention_spikes[1] + [0.5, 3.2])
    out_i = np.array([0] * 40 + [1] * 10 + [3] * 30, dtype=np.int64)
    out_t = np.full(out_i.size, 2.0)
    times = np.arange(0, 3.5, 0.001)
    response = np.vstack([np.where(times < 1, 99.0, 4.0), np.full(times.size, 7.0)])
    return Recording(spikes={"attention": (att_i, att_t), "output": (out_i, out_t)},
                     sizes={"attention": 4, "output": 4}, astrocyte_times=times,
                     astrocyte_response=response, windows=np.array([[1.0, 3.0], [1.0, 3.0]]),
                     attention_neurons=np.arange(4).reshape(2, 2), output_neurons=np.arange(4).reshape(2, 1, 2),
                     astrocyte_of_row=np.arange(2), attention_rate=100.0, value_gain=0.5)


def test_decode_uses_the_fixed_gains():
    decoded = decode(synthetic_recording())
    # A_hat = count / (R_att W) = count / 200; never renormalised (row 1 sums to 1.0, row 0 to 1.0).
    np.testing.assert_allclose(decoded.attention, [[0.6, 0.4], [0.25, 0.75]])
    # y_hat = (on - off) / (R_att c W) = (40 - 10) / 100 and (0 - 30) / 100.
    np.testing.assert_allclose(decoded.output, [[0.3], [-0.3]])
    np.testing.assert_allclose(decoded.normaliser, [4.0, 7.0])


def test_decode_shorter_window_counts_only_its_spikes():
    decoded = decode(synthetic_recording(), window=1.0)  # [1 s, 2 s): only the spikes at 1.2 s and 1.5 s
    np.testing.assert_allclose(decoded.attention, [[1.2, 0.0], [0.0, 1.5]])
    with pytest.raises(ValueError, match="window"):
        decode(synthetic_recording(), window=3.0)


def test_rows_read_one_after_another_with_shared_neurons():
    """The random-feature layout: one set of neurons, each row in its own window."""
    times = np.arange(0, 4, 0.001)
    recording = Recording(
        spikes={"attention": (np.array([0] * 30 + [1] * 10 + [1] * 40, dtype=np.int64),
                              np.array([0.5] * 30 + [0.7] * 10 + [2.5] * 40)),
                "output": (np.array([0] * 20 + [1] * 20, dtype=np.int64), np.array([0.5] * 20 + [2.5] * 20))},
        sizes={"attention": 2, "output": 2}, astrocyte_times=times,
        astrocyte_response=np.where(times < 2, 3.0, 5.0)[None, :], windows=np.array([[0.0, 1.0], [2.0, 3.0]]),
        attention_neurons=np.array([[0, 1], [0, 1]]), output_neurons=np.array([[[0, 1]], [[0, 1]]]),
        astrocyte_of_row=np.zeros(2, dtype=int), attention_rate=40.0, value_gain=1.0)
    decoded = decode(recording)
    np.testing.assert_allclose(decoded.attention, [[0.75, 0.25], [0.0, 1.0]])
    np.testing.assert_allclose(decoded.output, [[0.5], [-0.5]])
    np.testing.assert_allclose(decoded.normaliser, [3.0, 5.0])


def test_metrics_on_a_known_error():
    exact = Attention(scores=np.zeros((2, 2)), normaliser=np.array([2.0, 4.0]),
                      attention=np.array([[0.5, 0.5], [0.25, 0.75]]), output=np.array([[1.0], [2.0]]))
    decoded = Decoded(attention=np.array([[0.6, 0.5], [0.0, 0.75]]), output=np.array([[1.0], [2.5]]),
                      normaliser=np.array([2.2, 4.0]), window=1.0)
    m = attention_metrics(exact, decoded)
    assert m["row_tv_mean"] == pytest.approx((0.05 + 0.125) / 2)
    assert m["row_tv_max"] == pytest.approx(0.125)
    assert m["max_abs_error"] == pytest.approx(0.25)
    assert m["rmse"] == pytest.approx(np.sqrt((0.01 + 0.0625) / 4))
    kl_row0 = 0.6 * np.log(0.6 / 0.5) - 0.6 + 0.5
    kl_row1 = 0.0 - 0.0 + 0.25  # a decoded 0 contributes the exact mass it misses
    assert m["row_kl_mean"] == pytest.approx((kl_row0 + kl_row1) / 2)
    assert m["argmax_agreement"] == 1.0
    assert m["row_sum_error_max"] == pytest.approx(0.25)
    assert m["row_sum_error_mean"] == pytest.approx((0.1 + 0.25) / 2)
    # row 0 divided by its sum is [6, 5] / 11, 1/22 from [0.5, 0.5]; row 1 sums to 0.75 and becomes [0, 1]
    assert m["within_row_tv_mean"] == pytest.approx((1 / 22 + 0.25) / 2)
    assert m["output_rel_error"] == pytest.approx(0.5 / np.sqrt(5))
    assert m["normaliser_rel_error"] == pytest.approx(0.05)
    swapped = Decoded(attention=np.array([[0.6, 0.5], [0.75, 0.0]]), output=decoded.output,
                      normaliser=decoded.normaliser, window=1.0)
    assert attention_metrics(exact, swapped)["argmax_agreement"] == 0.5
    table = metrics_table(m)
    assert list(table.columns) == ["metric", "value", "description"]
    assert len(table) == len(m)
