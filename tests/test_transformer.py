"""A pretrained encoder with its attention in spikes (`spiking-attn transformer`), and the padding
masks that let texts of different lengths share one compiled network."""
import json

import numpy as np

from spiking_attn.api import simulate_problem
from spiking_attn.cli import main
from spiking_attn.problems import random_problem
from spiking_attn.transformer import bucket


def silent(message):
    pass


def test_padding_keys_take_no_part():
    """A T=5 problem padded to 8: the padding keys decode exactly 0 and the real rows match softmax
    over the real keys."""
    problem = random_problem(5, 4, seed=6)
    padded = problem.padded(8, 8)
    assert padded.key_mask.tolist() == [True] * 5 + [False] * 3
    result = simulate_problem(padded, target="numpy", duration=1.0, progress=silent)
    assert np.all(result.decoded.attention[:, 5:] == 0)
    np.testing.assert_allclose(result.exact.attention[:5, :5], run_exact(problem), atol=1e-12)
    tv = 0.5 * np.abs(result.decoded.attention[:5] - result.exact.attention[:5]).sum(axis=1)
    assert tv.mean() <= 0.01


def run_exact(problem):
    from spiking_attn.reference import softmax_attention

    return softmax_attention(problem.q, problem.k, problem.v).attention


def test_lengths_are_bucketed():
    assert [bucket(t) for t in (1, 8, 9, 16, 17, 40)] == [8, 8, 16, 16, 24, 40]


def test_spiking_transformer_keeps_the_embeddings(tmp_path, capsys):
    """Two sentences of 12 tokens (one network of 16) with layers 0 and 5 in spikes: embeddings
    within cosine 0.999 of the exact model's, sentence similarity within 0.005, and every layer run
    after the first reuses the build."""
    out = tmp_path / "transformer"
    texts = ["A cat sat quietly on the warm windowsill.", "The dog slept on the sunny porch all afternoon."]
    assert main(["transformer", "--text", *texts, "--layers", "0,5", "--duration", "0.3", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["layers"] == [0, 5]
    assert summary["embedding_cosine_min"] >= 0.999
    assert summary["similarity_error_max"] <= 0.005
    runs = summary["runs"]
    assert [(run["text"], run["layer"]) for run in runs] == [(0, 0), (0, 5), (1, 0), (1, 5)]
    assert all(run["reused_build"] for run in runs[1:]) and all(run["bucket"] == 16 for run in runs)
    assert max(run["head_tv_max"] for run in runs) <= 0.02
    # Per text: both layers' events (padded network) against 2 layers x 12 heads x 12^2 pairs x (32 + 32) MACs.
    assert [energy["ann_macs"] for energy in summary["energy"]] == [2 * 12 * 12 ** 2 * 64] * 2
    assert all(energy["synaptic_events"]["total"] > 0 and energy["ratio_to_ann"] > 1 for energy in summary["energy"])
    with np.load(out / "embeddings.npz") as saved:
        exact, spiking = saved["exact"], saved["spiking"]
        assert exact.shape == spiking.shape == (2, 384)
        np.testing.assert_allclose(np.linalg.norm(exact, axis=1), 1)
        cosines = (exact * spiking).sum(axis=1) / np.linalg.norm(spiking, axis=1)
        np.testing.assert_allclose(cosines, summary["embedding_cosine"])
    assert (out / "transformer.png").stat().st_size > 0 and (out / "layers.csv").stat().st_size > 0


def test_transformer_layers_share_one_calibrated_network(tmp_path):
    """With heterogeneity and --calibrate the first layer run calibrates its length bucket's network and
    every later layer reuses that calibration (numpy target, short phases: the options' path, not accuracy)."""
    out = tmp_path / "transformer"
    assert main(["transformer", "--text", "A cat sat on the mat.", "--layers", "0,5", "--target", "numpy",
                 "--heterogeneity", "0.1", "--calibrate", "0.05", "--duration", "0.05", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["heterogeneity"] == 0.1 and summary["settings"]["calibrate"] == 0.05
    assert [run["calibration"] for run in summary["runs"]] == ["calibrated in this run",
                                                               "reused (stored for this network)"]


def test_texts_on_a_separately_started_dask_cluster_resume_and_match_the_serial_run(tmp_path, dask_scheduler):
    """`transformer --scheduler`: each text is a point on the cluster's warm worker; the merged result equals the
    serial run's, and a rerun finds every text done and encodes none again."""
    texts = ["A cat sat quietly on the warm windowsill.", "The dog slept on the sunny porch all afternoon."]
    common = ["transformer", "--text", *texts, "--layers", "0", "--duration", "0.3"]
    out = tmp_path / "on_dask"
    assert main([*common, "--scheduler", dask_scheduler, "--out", str(out)]) == 0
    records = {path.name: path.read_text() for path in (out / "points").glob("*.json")}
    assert len(records) == 2 and all(json.loads(text)["status"] == "done" for text in records.values())
    assert main([*common, "--scheduler", dask_scheduler, "--out", str(out)]) == 0  # resumed: nothing left to do
    assert {path.name: path.read_text() for path in (out / "points").glob("*.json")} == records

    assert main([*common, "--out", str(tmp_path / "serial"), "--no-figure"]) == 0
    merged, serial = (json.loads((folder / "summary.json").read_text()) for folder in (out, tmp_path / "serial"))
    assert merged["texts"] == texts and [run["text"] for run in merged["runs"]] == [0, 1]
    assert merged["embedding_cosine"] == serial["embedding_cosine"]
    assert merged["energy"] == serial["energy"]
    with np.load(out / "embeddings.npz") as a, np.load(tmp_path / "serial" / "embeddings.npz") as b:
        np.testing.assert_array_equal(a["spiking"], b["spiking"])
    assert (out / "transformer.png").exists() and not (tmp_path / "serial" / "transformer.png").exists()


def test_an_interrupted_or_killed_encoder_resumes_with_the_texts_it_had_encoded(tmp_path, capsys):
    """Each text encoded is kept beside --out (.NAME.texts) until the result is complete: a run killed (SIGKILL) or
    interrupted (Ctrl-C) after its first text resumes there, encoding only the rest; then the kept texts go."""
    import os
    import signal
    import subprocess
    import sys
    import time

    texts = ["A cat sat quietly on the warm windowsill.", "The dog slept on the sunny porch all afternoon."]
    out = tmp_path / "out"
    store = tmp_path / ".out.texts"
    command = ["transformer", "--text", *texts, "--layers", "0", "--duration", "0.3", "--no-figure", "--out", str(out)]

    def kept_texts():  # in place: not a text still being written in its staging folder (KEY.partial-…)
        return [path for path in store.glob("*/summary.json") if "." not in path.parent.name]

    def interrupted_after_the_first_text(sig, later=0.0):
        process = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", *command], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 240
        while not kept_texts() and time.time() < deadline and process.poll() is None:
            time.sleep(0.1)
        time.sleep(later)  # (into the second text)
        process.send_signal(sig)
        _, error = process.communicate(timeout=60)
        return process.returncode, error

    returncode, error = interrupted_after_the_first_text(signal.SIGINT)
    assert returncode == 130 and f"the texts encoded so far are kept in {store}" in error
    (kept,) = kept_texts()
    kept_runs = json.loads(kept.read_text())["runs"]
    assert not out.exists()
    assert interrupted_after_the_first_text(signal.SIGKILL, later=4.0)[0] == -signal.SIGKILL
    assert not out.exists() and kept.exists()

    assert main(command) == 0
    assert "text 1/2: encoded by an earlier run that was interrupted" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["texts"] == texts
    assert [run for run in summary["runs"] if run["text"] == 0] == [{"text": 0, **run} for run in kept_runs]
    assert not store.exists() and sorted(os.listdir(tmp_path)) == ["out"]


def test_each_spiking_layer_feeds_the_model_what_its_network_decoded(monkeypatch):
    """A test that can tell: the output each spiking layer hands to the rest of the model is exactly what that
    layer's run decoded (and not the exact attention output, from which it differs), the other layers are exact,
    and the embedding is the one those outputs give."""
    import spiking_attn.transformer as transformer
    from spiking_attn.encoder import Encoder, default_model_folder, exact_attention
    from spiking_attn.experiment import resolve_options

    decoded = {}

    def recording_run(problem, options, parameters, progress):
        result = run_experiment(problem, options, parameters, progress=progress)
        decoded[len(decoded)] = result.decoded.output
        return result

    run_experiment = transformer.run_experiment
    monkeypatch.setattr(transformer, "run_experiment", recording_run)
    encoder = Encoder(default_model_folder())
    text = "A cat sat quietly on the warm windowsill."
    attention = transformer.SpikingAttention(resolve_options(warn=silent, duration=0.3), silent)
    encoding = encoder.encode(text, attention=attention, layers=[0, 5])
    tokens = encoding.ids.size
    assert sorted(decoded) == [0, 1] and [run["layer"] for run in attention.runs] == [0, 5]
    fed = {0: decoded[0][:, :tokens], 5: decoded[1][:, :tokens]}
    for layer, (q, k, v) in enumerate(encoding.inputs):
        exact = exact_attention(layer, q, k, v)
        if layer in fed:
            np.testing.assert_array_equal(encoding.outputs[layer], fed[layer])
            error = np.linalg.norm(encoding.outputs[layer] - exact) / np.linalg.norm(exact)
            assert 1e-4 < error < 0.05
        else:
            np.testing.assert_array_equal(encoding.outputs[layer], exact)
    replayed = encoder.encode(text, attention=lambda layer, q, k, v: fed[layer], layers=[0, 5])
    np.testing.assert_array_equal(replayed.embedding, encoding.embedding)
    assert not np.array_equal(encoding.embedding, encoder.encode(text).embedding)


def test_a_dask_worker_killed_in_the_middle_of_a_text_leaves_it_encoded_once(tmp_path, dask_scheduler):
    """`transformer --scheduler`: the text whose Dask worker is killed is encoded again on the worker its nanny
    starts, recorded once, and merged; the killed worker's warm worker ends with it."""
    import os
    import subprocess
    import sys
    import time

    import pandas as pd
    from dask_faults import kill_the_dask_worker_in_the_middle_of_a_point, processes

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", "transformer", "--text",
                                "A cat sat quietly on the warm windowsill.", "--layers", "0", "--duration", "0.3",
                                "--scheduler", dask_scheduler, "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    orphan = kill_the_dask_worker_in_the_middle_of_a_point(process, dask_scheduler)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    time.sleep(1)
    assert orphan not in processes()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 1 and set(runs.status) == {"done"}
    assert [path.name for path in (out / "points").glob("*.json")] == [f"{runs.point[0]}.json"]
    assert not [name for name in os.listdir(out / "points") if "partial" in name or "previous" in name]
    assert json.loads((out / "summary.json").read_text())["embedding_cosine_min"] >= 0.999
