"""Result folders: --overwrite replaces only spiking-attn's own earlier result, never a user's file."""
import json
import os

import pytest

from spiking_attn.cli import main
from spiking_attn.errors import InputError
from spiking_attn.output import MARKER, commit_output, foreign_entries, mark_result, prepare_output

TINY = ["run", "--tokens", "1", "--dim", "1", "--duration", "0.1", "--target", "numpy"]


def user_files(folder):
    """A folder with a user's files and a subfolder; returns {relative path: contents}."""
    (folder / "project").mkdir(parents=True, exist_ok=True)
    files = {"notes.txt": "mine", os.path.join("project", "data.csv"): "1,2,3"}
    for name, text in files.items():
        (folder / name).write_text(text)
    return files


def assert_intact(folder, files):
    for name, text in files.items():
        assert (folder / name).read_text() == text


@pytest.mark.parametrize("where", ["cwd", "home"])
def test_overwrite_refuses_a_folder_with_user_files(where, tmp_path, capsys, monkeypatch):
    folder = tmp_path / where
    files = user_files(folder)
    monkeypatch.chdir(folder)
    if where == "home":
        monkeypatch.setenv("HOME", str(folder))
        monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))  # keep library caches out of it
    out = "." if where == "cwd" else os.path.expanduser("~")
    code = main([*TINY, "--out", out, "--overwrite"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "holds files spiking-attn did not write (notes.txt, project, project/data.csv)" in err
    assert_intact(folder, files)
    assert sorted(os.listdir(folder)) == ["notes.txt", "project"]
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]


def test_overwrite_replaces_an_earlier_result(tmp_path, capsys):
    out = tmp_path / "result"
    assert main([*TINY, "--seed", "1", "--out", str(out)]) == 0
    first = json.loads((out / "summary.json").read_text())
    listed = json.loads((out / MARKER).read_text())["files"]
    assert sorted(listed) == ["attention.npz", "attention.png", "metrics.csv", "rows.csv", "summary.json"]
    assert main([*TINY, "--seed", "2", "--out", str(out), "--overwrite"]) == 0
    second = json.loads((out / "summary.json").read_text())
    assert (first["seed"], second["seed"]) == (1, 2)
    assert sorted(os.listdir(tmp_path)) == ["result"]  # nothing left beside it


def test_a_result_with_a_user_file_added_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "result"
    assert main([*TINY, "--out", str(out)]) == 0
    (out / "my-analysis.ipynb").write_text("{}")
    code = main([*TINY, "--out", str(out), "--overwrite"])
    assert code == 2
    assert "(my-analysis.ipynb)" in capsys.readouterr().err
    assert (out / "my-analysis.ipynb").read_text() == "{}" and (out / "summary.json").exists()


def test_nested_results_are_recognised(tmp_path):
    """A batch result: a folder per problem and batch.csv, all listed by the marker."""
    result = tmp_path / "batch"
    (result / "p1").mkdir(parents=True)
    (result / "p1" / "summary.json").write_text("{}")
    (result / "batch.csv").write_text("problem\n")
    mark_result(result, "run")
    assert foreign_entries(result) == []
    (result / "p1" / "extra.txt").write_text("mine")
    (result / "empty").mkdir()
    assert foreign_entries(result) == ["empty", os.path.join("p1", "extra.txt")]


def test_a_folder_without_marker_is_foreign_and_a_forged_list_does_not_help(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "summary.json").write_text("{}")
    assert foreign_entries(folder) == ["summary.json"]
    (folder / MARKER).write_text("not json")
    assert foreign_entries(folder) == [MARKER, "summary.json"]


def test_commit_checks_the_folder_again(tmp_path):
    """A user's file that appears in --out while the run goes on is not deleted either."""
    out = tmp_path / "out"
    staging = prepare_output(str(out), overwrite=True)
    (tmp_path / "out").mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="did not write"):
        commit_output(staging, str(out), command="run", overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_figures_replace_only_their_own_png(tmp_path):
    from spiking_attn.figures import plt, save_figure

    figure, _ = plt.subplots()
    ours = tmp_path / "ours.png"
    save_figure(figure, ours)
    save_figure(figure, ours)  # our own earlier figure: replaced
    users = tmp_path / "photo.png"
    figure.savefig(users)  # a PNG, but not one spiking-attn saved
    text = tmp_path / "notes.png"
    text.write_text("mine")
    for path in (users, text):
        before = path.read_bytes()
        with pytest.raises(InputError, match="not a figure spiking-attn saved"):
            save_figure(figure, path)
        assert path.read_bytes() == before
    plt.close(figure)


def test_a_failed_result_leaves_nothing(tmp_path):
    from spiking_attn.output import result_folder

    with pytest.raises(RuntimeError):
        with result_folder(str(tmp_path / "out"), "test") as staging:
            (tmp_path / "out-written").write_text("")  # beside it, to see the block ran
            open(os.path.join(staging, "summary.json"), "w").close()
            raise RuntimeError("the run failed")
    assert sorted(os.listdir(tmp_path)) == ["out-written"]


def killed_commit(parent, name, moved_aside):
    """What a run left when SIGKILL came in the middle of commit_output: a complete staging folder and the earlier
    result moved aside, either before (``moved_aside``) or after the new result was put in place."""
    import subprocess

    ended = subprocess.Popen(["true"])
    ended.wait()  # a process that is gone: its pid names nothing now
    pid = ended.pid
    earlier = parent / name if not moved_aside else parent / f".{name}.previous-{pid}-abc" / "result"
    for folder in (earlier, parent / f".{name}.partial-{pid}-xyz"):
        folder.mkdir(parents=True)
        (folder / "summary.json").write_text("{}")
        mark_result(str(folder), "run")
    if not moved_aside:
        (parent / f".{name}.previous-{pid}-abc" / "result").mkdir(parents=True)


@pytest.mark.parametrize("moved_aside", [True, False])
def test_a_result_whose_commit_was_killed_is_put_back_and_its_leftovers_removed(moved_aside, tmp_path):
    killed_commit(tmp_path, "out", moved_aside)
    (tmp_path / ".notes.partial-1-abc").mkdir()  # a user's folder of a similar name: left alone
    with pytest.raises(InputError, match="is not empty"):  # the earlier result is back in place, never lost
        prepare_output(str(tmp_path / "out"))
    assert (tmp_path / "out" / "summary.json").exists() and not foreign_entries(str(tmp_path / "out"))
    assert sorted(os.listdir(tmp_path)) == [".notes.partial-1-abc", "out"]


def limited_to(size):
    """A preexec_fn: files this process writes may not grow past ``size`` bytes (a disk that fills up)."""
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.parametrize("command", [
    ["run", "--tokens", "32", "--dim", "32", "--duration", "0.05", "--target", "numpy", "--no-figure"],
    ["problem", "--tokens", "64", "--dim", "64"],
])
def test_a_write_that_fails_is_one_line_and_leaves_the_earlier_result_intact(command, tmp_path):
    """A write that fails while the result is written (here a 40 kB file size limit; the same as a full disk): one
    line, exit 1, no partial result in place or beside it, and the earlier result in the same place unchanged."""
    import subprocess
    import sys

    argv = [*command, str(tmp_path / "p.npz")] if command[0] == "problem" else [*command, "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    before = {path: path.read_bytes() for path in sorted(tmp_path.rglob("*")) if path.is_file()}
    again = [*argv, "--seed", "3", "--overwrite"]
    result = subprocess.run([sys.executable, "-m", "spiking_attn.cli", *again], preexec_fn=limited_to(40_000),
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("spiking-attn: error:")]
    assert errors == [result.stderr.splitlines()[-1]] and "File too large" in errors[0]
    assert "Traceback" not in result.stderr
    assert {path: path.read_bytes() for path in sorted(tmp_path.rglob("*")) if path.is_file()} == before
