import json
import time

import pytest

from cs231n import config
from workbook import results, run_notebooks

pytestmark = pytest.mark.data


def test_record_appends_json_line(monkeypatch, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    monkeypatch.setenv("CS231N_RESULTS", str(out))
    monkeypatch.setenv("CS231N_NOTEBOOK", "assignment1/svm.ipynb")
    monkeypatch.setattr(config, "sources_used", {"CIFAR-10": "full"})
    results.record("svm_test_acc", 0.391, target=0.39)
    results.record("svm_train_seconds", 700, target=600, higher_is_better=False)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["key"] == "svm_test_acc" and lines[0]["data"] == "full" and lines[0]["target"] == 0.39
    printed = capsys.readouterr().out
    assert "target >= 0.39: met" in printed and "target <= 600: NOT met" in printed


@pytest.mark.parametrize("key,value", [("SVM accuracy", 0.3), ("svm_test", 0.3), ("svm_test_acc", float("nan"))])
def test_record_rejects_bad_input(key, value):
    with pytest.raises(ValueError):
        results.record(key, value)


def test_table_marks_misses():
    recs = [{"notebook": "a/b.ipynb", "key": "x_acc", "value": 0.2, "target": 0.3, "higher_is_better": True,
             "data": "full", "quick": False}]
    assert "**no**" in run_notebooks.format_table(recs)
    # at the mini and quick scales a course target is not judged
    for scale in ("mini", "quick"):
        row = run_notebooks.format_table([{**recs[0], "scale": scale}]).splitlines()[-1]
        assert row == f"| a/b.ipynb | x_acc | 0.2 | >= 0.3 | full data only | {scale} |"


def test_select_orders_notebooks():
    chosen = run_notebooks.select(None, [])
    assert chosen == [nb for nb in run_notebooks.NOTEBOOKS if nb in chosen]


def make_notebook(path, source):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.mark.slow
def test_runner_executes_records_and_reports_failure(monkeypatch, tmp_path, capsys):
    make_notebook(tmp_path / "assignment1/knn.ipynb",
                  "from workbook.results import record\nrecord('knn_test_acc', 0.3, target=0.28)")
    make_notebook(tmp_path / "assignment1/svm.ipynb", "raise RuntimeError('boom')")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "RUN_DIR", tmp_path / "build/run")
    monkeypatch.setattr(config, "QUICK", True)
    status = run_notebooks.main(["--assignment", "1"])
    out = capsys.readouterr().out
    assert status == 1  # one notebook failed
    assert "| assignment1/knn.ipynb | knn_test_acc | 0.3 | >= 0.28 | full data only | quick |" in out
    assert "FAILED" in out and "RuntimeError: boom" in out
    assert (tmp_path / "build/run/assignment1/svm.ipynb").exists()


def test_unknown_notebook_name_lists_the_valid_ones(monkeypatch, tmp_path, capsys):
    make_notebook(tmp_path / "assignment1/knn.ipynb", "x = 1")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    assert run_notebooks.main(["nope"]) == 2
    err = capsys.readouterr().err
    assert "no notebook named nope" in err and "valid names: knn" in err


@pytest.mark.slow
def test_keyboard_interrupt_stops_the_whole_run(monkeypatch, tmp_path, capsys):
    # Ctrl-C reaches the kernel too: its KeyboardInterrupt must stop the run, not only the notebook.
    make_notebook(tmp_path / "assignment1/knn.ipynb", "raise KeyboardInterrupt")
    make_notebook(tmp_path / "assignment1/svm.ipynb", "x = 1")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "RUN_DIR", tmp_path / "build/run")
    monkeypatch.setattr(config, "QUICK", True)
    assert run_notebooks.main(["--assignment", "1", "--jobs", "1"]) == 130
    out = capsys.readouterr().out
    assert "assignment1/svm.ipynb" not in out


@pytest.mark.slow
def test_side_by_side_run_reports_both_and_interrupt_stops_the_other(monkeypatch, tmp_path, capsys):
    make_notebook(tmp_path / "assignment1/knn.ipynb",
                  "from workbook.results import record\nrecord('knn_test_acc', 0.3, target=0.28)")
    make_notebook(tmp_path / "assignment1/svm.ipynb",
                  "import os\nfrom workbook.results import record\n"
                  "record('svm_threads_count', int(os.environ['OMP_NUM_THREADS']))")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "RUN_DIR", tmp_path / "build/run")
    monkeypatch.setattr(config, "QUICK", True)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert run_notebooks.main(["--assignment", "1", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 side by side" in out
    assert "| assignment1/knn.ipynb | knn_test_acc | 0.3 | >= 0.28 | full data only | quick |" in out
    assert "| assignment1/svm.ipynb | svm_threads_count | 1 |" in out  # one BLAS thread each

    # Ctrl-C in one worker stops the other one's (long) notebook too, and the run
    make_notebook(tmp_path / "assignment1/knn.ipynb", "import time\ntime.sleep(0.5)\nraise KeyboardInterrupt")
    make_notebook(tmp_path / "assignment1/svm.ipynb", "import time\ntime.sleep(600)")
    start = time.time()
    assert run_notebooks.main(["--assignment", "1", "--jobs", "2"]) == 130
    assert time.time() - start < 120


def test_jobs_must_be_a_positive_number_or_auto(capsys):
    with pytest.raises(SystemExit):
        run_notebooks.main(["--jobs", "0"])
    assert "give a whole number >= 1, or auto" in capsys.readouterr().err


def test_readme_table_is_replaced_between_markers(monkeypatch, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run_notebooks.README_START}\nold\n{run_notebooks.README_END}\nrest\n")
    monkeypatch.setattr(run_notebooks, "README", readme)
    rec = {"notebook": "a/b.ipynb", "key": "x_acc", "value": 0.5, "target": 0.4,
           "higher_is_better": True, "data": "full", "quick": False, "scale": "full"}
    run_notebooks.update_readme([rec])
    text = readme.read_text()
    assert "old" not in text and "| a/b.ipynb | x_acc | 0.5 | >= 0.4 | yes | full |" in text
    assert text.startswith("intro\n") and text.endswith("rest\n")
    assert not list(tmp_path.glob("*.tmp"))  # written through a temp file, renamed into place


def test_record_prints_one_line_and_returns_nothing(monkeypatch, capsys):
    monkeypatch.delenv("CS231N_RESULTS", raising=False)
    monkeypatch.setattr(config, "QUICK", False)
    monkeypatch.setattr(config, "sources_used", {"CIFAR-10": "mini"})
    assert results.record("svm_test_acc", 0.35, target=0.39) is None
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["[result] svm_test_acc = 0.35  (course target >= 0.39, judged on full data; "
                   "this is the mini scale)"]


@pytest.mark.slow
def test_each_notebook_kernel_is_shut_down(monkeypatch, tmp_path):
    import os
    import time

    pid_file = tmp_path / "pid"
    make_notebook(tmp_path / "assignment1/knn.ipynb",
                  f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "RUN_DIR", tmp_path / "build/run")
    monkeypatch.setattr(config, "QUICK", True)
    assert run_notebooks.main(["knn"]) == 0
    pid = int(pid_file.read_text())
    for _ in range(50):  # the kernel exits asynchronously after the shutdown request
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"the notebook's kernel (pid {pid}) is still running after the run")
