"""Sweeps (`spiking-attn sweep`, `spiking-attn report`, spiking_attn.run_sweep): configs, Dask runs on a
local cluster and on separately started `dask scheduler` / `dask worker` processes, resuming after a
kill, and the tables. Every simulated point is a T=4, D=4 head with a 0.1 s read window, so all of them
share one build in the session's cache."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import spiking_attn
import spiking_attn.report
from spiking_attn.cli import main
from spiking_attn.errors import InputError
from spiking_attn.sweep import load_config

SMALL = {"tokens": 4, "dim": 4, "duration": 0.1}


def small_config(**grid):
    return {"run": dict(SMALL), "grid": grid or {"seed": [0, 1]}}


def write_toml(path, text):
    path.write_text(text)
    return str(path)


# --- configs (nothing runs) --------------------------------------------------------------------------


def test_grid_is_every_combination_with_names_as_on_the_command_line(tmp_path):
    config = write_toml(tmp_path / "s.toml", '[run]\ntokens = 4\n"key-tokens" = 6\n[grid]\nseed = [0, 1, 2]\n'
                                             'scale = [0.5, 2.0]\ncausal = [false]\n')
    sweep = load_config(config)
    assert len(sweep.points) == 6
    assert sweep.grid_options == ("seed", "scale", "causal")
    assert {(p.options["seed"], p.options["scale"]) for p in sweep.points} == {(s, x) for s in (0, 1, 2)
                                                                               for x in (0.5, 2.0)}
    assert all(p.options["key_tokens"] == 6 for p in sweep.points)
    assert sweep.points[0].argv == ("--tokens", "4", "--key-tokens", "6", "--seed", "0", "--scale", "0.5",
                                    "--no-figure")


def test_several_grids_add_their_points_and_keys_are_stable(tmp_path):
    config = {"run": {"dim": 4}, "grid": [{"tokens": [2, 4], "target": ["cpp_standalone"]},
                                          {"tokens": [2], "target": ["numpy", "cpp_standalone"]}]}
    sweep = load_config(config)
    assert [(p.options["tokens"], p.options["target"]) for p in sweep.points] == [
        (2, "cpp_standalone"), (4, "cpp_standalone"), (2, "numpy")]  # the repeated point once
    assert [p.key for p in load_config(config).points] == [p.key for p in sweep.points]
    assert len({p.key for p in sweep.points}) == 3


def test_astrocyte_takes_booleans_and_input_paths_are_relative_to_the_config(tmp_path):
    (tmp_path / "data").mkdir()
    assert main(["problem", str(tmp_path / "data" / "p.npz"), "--tokens", "3", "--dim", "2"]) == 0
    config = write_toml(tmp_path / "s.toml", '[run]\ninput = "data/p.npz"\n[grid]\nastrocyte = [true, false]\n')
    points = load_config(config).points
    assert [p.options["astrocyte"] for p in points] == ["on", "off"]
    assert points[0].options["input"] == str(tmp_path / "data" / "p.npz")


@pytest.mark.parametrize("text, fragment", [
    ("[run]\ntokens = 4\n", "no [grid] table"),
    ("[grid]\n", "the grid is empty"),
    ("[grid]\nseed = []\n", "grid option 'seed' is an empty list"),
    ("[grid]\nseed = 3\n", "grid option 'seed' must be a list of values"),
    ("[grid]\nsed = [1, 2]\n", "unknown option 'sed' in [grid] (did you mean 'seed'?)"),
    ("[grid]\nseed = [1]\n[runs]\ntokens = 2\n", "unknown table(s) runs"),
    ("[run]\nseed = 1\n[grid]\nseed = [1, 2]\n", "are in both [run] and [grid]"),
    ("[run]\nout = 'x'\n[grid]\nseed = [1]\n", "cannot be swept: the sweep writes each point's folder itself"),
    ("[grid]\ntokens = [4, 0]\n", "point tokens=0: argument --tokens: must be at least 1, got 0"),
    ("[grid]\ntokens = [4, 'many']\n", "argument --tokens: expected a whole number, got 'many'"),
    ("[grid]\ncausal = ['yes']\n", "option 'causal' takes true or false"),
    ("[grid]\nscale = [[1, 2]]\n", "bad value [1, 2] for option 'scale'"),
    ("[grid]\nfeatures = [10]\n", "--features applies to --network random-features only"),
    ("[grid]\nseed = [1\n", "not valid TOML"),
])
def test_bad_config_is_one_error_naming_it(tmp_path, text, fragment):
    with pytest.raises(InputError) as error:
        load_config(write_toml(tmp_path / "bad.toml", text))
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


# --- running -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    """A 4-point sweep (2 seeds x 2 scales) on a local cluster of 2 workers, and its report."""
    folder = tmp_path_factory.mktemp("sweep") / "out"
    config = write_toml(folder.parent / "s.toml", "[run]\ntokens = 4\ndim = 4\nduration = 0.1\n"
                                                  "[grid]\nseed = [0, 1]\nscale = [1.0, 4.0]\n")
    code = main(["sweep", config, "--out", str(folder), "--workers", "2"])
    return code, folder, config


def test_sweep_writes_one_row_per_point_with_options_and_summary(sweep_folder):
    code, folder, _ = sweep_folder
    assert code == 0
    runs = pd.read_parquet(folder / "runs.parquet")
    assert len(runs) == 4 and set(runs.status) == {"done"}
    assert sorted(zip(runs.seed, runs.scale)) == [(0, 1.0), (0, 4.0), (1, 1.0), (1, 4.0)]
    for row in runs.to_dict("records"):
        with open(folder / row["folder"] / "summary.json") as stream:
            summary = json.load(stream)
        assert row["row_tv_mean"] == summary["row_tv_mean"]
        assert row["neurons.score"] == summary["neurons"]["score"]  # nested, flattened
        assert row["energy.ratio_to_ann"] == summary["energy"]["ratio_to_ann"] > 1
        assert not (folder / row["folder"] / "attention.png").exists()  # points draw no figure unless asked
        assert row["point_seconds"] > row["run_seconds"] > 0 and row["peak_memory_mb"] > 10
        assert row["row_tv_mean"] < 0.05
    assert runs.reused_build.sum() >= 3  # one build for the four points
    rows = pd.read_parquet(folder / "rows.parquet")
    assert len(rows) == 4 * 4
    for point, group in rows.groupby("point"):
        assert group.row_tv.mean() == pytest.approx(runs.set_index("point").row_tv_mean[point])
        assert group.scale.nunique() == 1


def test_rerun_skips_finished_points(sweep_folder, capsys):
    code, folder, config = sweep_folder
    records = {name: (folder / "points" / name).read_text() for name in os.listdir(folder / "points")
               if name.endswith(".json")}
    assert main(["sweep", config, "--out", str(folder), "--workers", "2"]) == 0
    assert "4/4 points done" in capsys.readouterr().err
    assert {name: (folder / "points" / name).read_text() for name in records} == records


def test_extended_grid_runs_only_the_new_points(sweep_folder, tmp_path):
    folder = tmp_path / "copy"  # the module's sweep folder stays as the other tests expect it
    shutil.copytree(sweep_folder[1], folder)
    before = {name: (folder / "points" / name).read_text() for name in os.listdir(folder / "points")
              if name.endswith(".json")}
    config = write_toml(tmp_path / "more.toml", "[run]\ntokens = 4\ndim = 4\nduration = 0.1\n"
                                               "[grid]\nseed = [0, 1, 2]\nscale = [1.0, 4.0]\n")
    runs = spiking_attn.run_sweep(config, str(folder), workers=1)
    assert len(runs) == 6 and set(runs.status) == {"done"}
    after = {name for name in os.listdir(folder / "points") if name.endswith(".json")}
    assert len(after) == 6 and all((folder / "points" / name).read_text() == text for name, text in before.items())
    assert len(pd.read_parquet(folder / "rows.parquet")) == 6 * 4


def test_report_has_figures_table_and_slopes(sweep_folder, capsys):
    _, folder, _ = sweep_folder
    assert main(["report", str(folder), "--metric", "row_tv_mean", "score_max"]) == 0
    report = (folder / "report.md").read_text()
    assert "![scale](report-scale.png)" in report and (folder / "report-scale.png").stat().st_size > 1000
    runs = pd.read_parquet(folder / "runs.parquet")
    for scale, group in runs.groupby("scale"):
        assert f"| {scale:g} | {group.row_tv_mean.mean():.4g} | {group.row_tv_mean.std():.4g} | 2 |" in report
    # two values of scale are not a law: no slope
    assert "Fitted log-log slopes" not in report
    assert main(["report", str(folder), "--metric", "no_such_metric"]) == 2
    assert "no column 'no_such_metric'" in capsys.readouterr().err


def test_report_fits_the_slope_of_a_law_with_seeds_as_error_bars(tmp_path):
    """A synthetic sweep folder: error = 0.01 / duration * (1 + seed noise), at two scales."""
    from spiking_attn.sweep import MARKER

    rng = np.random.default_rng(0)
    rows = [{"point": f"p{i}", "status": "done", "duration": d, "seed": seed, "scale": x,
             "row_tv_mean": 0.01 * x / d * (1 + 0.02 * rng.normal())}
            for i, (d, seed, x) in enumerate((d, seed, x) for d in (0.25, 0.5, 1.0, 2.0, 4.0) for seed in (0, 1, 2)
                                             for x in (1.0, 3.0))]
    rows.append({"point": "bad", "status": "failed", "duration": 8.0, "seed": 0, "scale": 1.0,
                 "row_tv_mean": None, "error": "out of memory"})
    pd.DataFrame(rows).to_parquet(tmp_path / "runs.parquet")
    (tmp_path / MARKER).write_text(json.dumps({"tool": "spiking-attn", "grid_options": ["duration", "seed", "scale"],
                                               "metrics": ["row_tv_mean"]}))
    _, slopes = spiking_attn.report.write_report(str(tmp_path))
    by_line = {(s["x"], s["line"]): s["slope"] for s in slopes}
    assert by_line[("duration", "scale=1.0")] == pytest.approx(-1, abs=0.03)
    assert by_line[("duration", "scale=3.0")] == pytest.approx(-1, abs=0.03)
    assert ("scale", "duration=1.0") not in by_line  # two values of scale: not a law
    report = (tmp_path / "report.md").read_text()
    assert "| duration | row_tv_mean | scale=1.0 | -1" in report and "out of memory" in report
    assert (tmp_path / "report-duration.png").exists() and (tmp_path / "report-scale.png").exists()
    (tmp_path / "report.md").write_text("my notes")
    with pytest.raises(InputError, match="was not written by `spiking-attn report`"):
        spiking_attn.report.write_report(str(tmp_path))


def test_report_takes_grids_that_leave_an_option_out(tmp_path):
    """Two [[grid]] blocks, one without ``duration`` (NaN in the table) beside a text option: a figure for each."""
    from spiking_attn.sweep import MARKER

    rows = [{"point": f"a{i}", "status": "done", "duration": d, "factor": "all", "row_tv_mean": 0.01 / d}
            for i, d in enumerate((0.5, 1.0, 2.0))]
    rows += [{"point": f"b{i}", "status": "done", "duration": None, "factor": f, "row_tv_mean": 0.01}
             for i, f in enumerate(("slope", "gain"))]
    pd.DataFrame(rows).to_parquet(tmp_path / "runs.parquet")
    (tmp_path / MARKER).write_text(json.dumps({"tool": "spiking-attn", "grid_options": ["duration", "factor"],
                                               "metrics": ["row_tv_mean"]}))
    _, slopes = spiking_attn.report.write_report(str(tmp_path))
    assert (tmp_path / "report-duration.png").exists() and (tmp_path / "report-factor.png").exists()
    assert [(s["x"], s["line"], round(s["slope"], 6)) for s in slopes] == [("duration", "factor=all", -1.0)]


def test_a_failing_point_is_recorded_and_does_not_stop_the_sweep(tmp_path):
    for seed in (0, 1):
        assert main(["problem", str(tmp_path / f"p{seed}.npz"), "--tokens", "4", "--dim", "4", "--seed",
                     str(seed)]) == 0
    config = {"run": {"duration": 0.1}, "grid": {"input": [str(tmp_path / "p0.npz"), str(tmp_path / "p1.npz")]}}
    sweep = load_config(config)
    os.remove(tmp_path / "p1.npz")  # after the config was checked: the point fails when it runs
    from spiking_attn.sweep import execute

    runs = execute(sweep, str(tmp_path / "out"), workers=1).set_index("input")
    assert runs.status[str(tmp_path / "p0.npz")] == "done"
    assert runs.status[str(tmp_path / "p1.npz")] == "failed"
    assert "p1.npz: no such file" in runs.error[str(tmp_path / "p1.npz")]
    # a failure is final, like a success, unless the failed points are retried
    assert main(["problem", str(tmp_path / "p1.npz"), "--tokens", "4", "--dim", "4", "--seed", "1"]) == 0
    assert execute(sweep, str(tmp_path / "out"), workers=1).status.tolist() == ["done", "failed"]
    runs = execute(sweep, str(tmp_path / "out"), workers=1, retry_failed=True)
    assert runs.status.tolist() == ["done", "done"] and runs.error.isna().all()


def test_killed_sweep_resumes_with_every_point_exactly_once(tmp_path):
    config = write_toml(tmp_path / "s.toml", "[run]\ntokens = 4\ndim = 4\nduration = 0.1\n"
                                             "[grid]\nseed = [0, 1, 2, 3, 4, 5]\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "spiking_attn.cli", "sweep", config, "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    def records():
        return sorted(name for name in os.listdir(out / "points") if name.endswith(".json")) \
            if (out / "points").is_dir() else []

    deadline = time.time() + 240
    while len(records()) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the sweep, its cluster and the point in flight
    process.wait()
    finished = {name: (out / "points" / name).read_text() for name in records()}
    assert 2 <= len(finished) < 6
    assert not (out / "runs.parquet").exists()

    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs.seed) == [0, 1, 2, 3, 4, 5] and set(runs.status) == {"done"}
    assert {name: (out / "points" / name).read_text() for name in finished} == finished  # not run again
    assert len(records()) == 6
    assert not [name for name in os.listdir(out / "points") if "partial" in name or "previous" in name]


def test_sweep_runs_on_separately_started_scheduler_and_worker(tmp_path, dask_scheduler):
    runs = spiking_attn.run_sweep(small_config(seed=[0, 1]), str(tmp_path / "out"), scheduler=dask_scheduler)
    assert list(runs.status) == ["done", "done"]
    assert runs.worker.notna().all()
    assert (runs.row_tv_mean < 0.05).all()


def test_run_problem_takes_arrays_and_gives_tables():
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=(4, 4)) for _ in range(3))  # the sweeps' shape: their build is reused
    result = spiking_attn.run_problem(q, k, v, duration=0.1)
    table = result.table.set_index("metric")
    assert table.value["row_tv_mean"] == result.metrics["row_tv_mean"] < 0.05
    assert result.attention.shape == (4, 4) and result.output.shape == (4, 4)
    np.testing.assert_allclose(result.rows.row_sum, result.attention.sum(axis=1))
    with pytest.raises(InputError, match="contains NaN"):
        spiking_attn.run_problem(np.full((2, 2), np.nan), k[:2], v[:2])


def test_sweep_folder_refuses_a_users_folder(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds no sweep.json"):
        spiking_attn.run_sweep(small_config(), str(mine))
    assert os.listdir(mine) == ["notes.txt"]



def test_reopening_a_sweep_removes_only_its_own_staging(tmp_path):
    """A killed sweep's staging (a merge folder, a table's partial file, a point's partial record) goes; a file of
    the user's in the sweep folder stays, whatever its name."""
    from spiking_attn.sweep import prepare_sweep_folder

    sweep = load_config(small_config())
    out = tmp_path / "out"
    prepare_sweep_folder(str(out), sweep)
    (out / ".merged.partial-abc").mkdir()
    (out / "runs.parquet.partial").write_text("half")
    (out / "points" / "123.json.partial").write_text("half")
    (out / "notes.partial").write_text("mine")
    (out / "draft.previous-1").write_text("mine")
    prepare_sweep_folder(str(out), sweep)
    assert sorted(os.listdir(out)) == ["draft.previous-1", "notes.partial", "points", "sweep.json"]
    assert os.listdir(out / "points") == []


def test_a_second_sweep_on_a_folder_in_use_refuses_and_no_point_runs_twice(sweep_folder, capsys):
    """While a sweep holds its folder (its lock), a second sweep there refuses with one line and runs nothing; once
    the folder is free the same command finds every point done."""
    from spiking_attn.output import exclusive_folder

    _, out, config = sweep_folder
    records = {path.name: path.read_text() for path in (out / "points").glob("*.json")}
    assert len(records) == 4
    with exclusive_folder(str(out), "sweep folder"):  # the first sweep, as seen from the second
        assert main(["sweep", config, "--out", str(out), "--workers", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and f"is in use by another spiking-attn command (process {os.getpid()})" in error
    assert {path.name: path.read_text() for path in (out / "points").glob("*.json")} == records
    assert main(["sweep", config, "--out", str(out), "--workers", "1"]) == 0
    assert {path.name: path.read_text() for path in (out / "points").glob("*.json")} == records


# --- fuzzed configs (nothing runs) -------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NAMES = st.sampled_from(["seed", "tokens", "dim", "scale", "duration", "causal", "astrocyte", "target", "heads",
                         "input", "out", "sed", "key-tokens", "n_score", "dt", "metrics", "", "grid", "run"])
SCALARS = st.one_of(st.integers(-10, 10 ** 12), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.text(max_size=8), st.sampled_from(["on", "off", "numpy", "1.0", "4", "cpp_standalone"]))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(NAMES, SCALARS, max_size=2))
TABLE = st.dictionaries(NAMES, VALUES, max_size=3)
CONFIGS = st.dictionaries(st.sampled_from(["run", "grid", "report", "command", "extra"]),
                          st.one_of(TABLE, st.lists(TABLE, max_size=2), SCALARS), max_size=4)


def one_line_refusal_or_a_sweep(load):
    """``load()`` gives a Sweep whose every point has a stable key and command line, or one InputError line."""
    try:
        sweep = load()
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert sweep.points and len({point.key for point in sweep.points}) == len(sweep.points)
    assert all(point.argv for point in sweep.points)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIGS)
def test_any_config_shape_is_a_sweep_or_one_line(config):
    one_line_refusal_or_a_sweep(lambda: load_config({"run": {"duration": 0.1}, **config}
                                                    if isinstance(config.get("run"), dict) else config))


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{key}" = {toml_value(item)}' for key, item in value.items()) + "}"
    return json.dumps(value) if isinstance(value, str) else str(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["run", "grid", "report"]), TABLE, max_size=3),
       st.one_of(st.just(""), st.text(max_size=20)))
def test_any_toml_file_is_a_sweep_or_one_line(tmp_path, tables, noise):
    text = "".join(f"[{name}]\n" + "".join(f'"{key}" = {toml_value(value)}\n' for key, value in table.items())
                   for name, table in tables.items()) + noise
    path = tmp_path / "fuzzed.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    one_line_refusal_or_a_sweep(lambda: load_config(str(path)))


def test_numbers_are_points_by_value_and_a_huge_grid_is_refused_with_its_count():
    sweep = load_config({"run": {"tokens": 4, "duration": 0.1}, "grid": {"scale": [1, 1.0, "1.0", 2]}})
    assert [point.options["scale"] for point in sweep.points] == [1.0, 2.0]
    assert load_config({"run": dict(SMALL), "grid": {"seed": [1]}}).points[0].key == \
        load_config({"run": dict(SMALL), "grid": {"seed": [1.0]}}).points[0].key
    with pytest.raises(InputError, match="the grid has 1,000,000 points, more than 10,000; split the sweep"):
        load_config({"run": dict(SMALL), "grid": {"seed": list(range(1000)), "scale": list(range(1, 1001))}})


def test_a_dask_worker_killed_in_the_middle_of_a_point_leaves_it_recorded_once(tmp_path, dask_scheduler):
    """The point whose Dask worker is killed runs again on the worker its nanny starts; the sweep finishes with every
    point recorded once, done; the killed worker's warm worker (and its simulation) ends with it rather than finish
    the point a second time. (The encoder's texts on Dask: tests/test_transformer.py.)"""
    from dask_faults import kill_the_dask_worker_in_the_middle_of_a_point, processes

    out = tmp_path / "out"
    config = write_toml(tmp_path / "s.toml", "[run]\ntokens = 4\ndim = 4\ntarget = \"numpy\"\nduration = 0.5\n"
                                             "[grid]\nseed = [0, 1]\n")
    process = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", "sweep", config, "--scheduler",
                                dask_scheduler, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    orphan = kill_the_dask_worker_in_the_middle_of_a_point(process, dask_scheduler)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    time.sleep(1)
    assert orphan not in processes()  # it ended with its Dask worker
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 and set(runs.status) == {"done"}
    assert sorted(path.name for path in (out / "points").glob("*.json")) == sorted(f"{key}.json" for key in runs.point)
    assert not [name for name in os.listdir(out / "points") if "partial" in name or "previous" in name]
