import json

import pytest

from cs231n import config, results, run_notebooks

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
                  "from cs231n.results import record\nrecord('knn_test_acc', 0.3, target=0.28)")
    make_notebook(tmp_path / "assignment1/svm.ipynb", "raise RuntimeError('boom')")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "RUN_DIR", tmp_path / "build/run")
    monkeypatch.setattr(config, "QUICK", True)
    status = run_notebooks.main(["--assignment", "1"])
    out = capsys.readouterr().out
    assert status == 1  # one notebook failed
    assert "| assignment1/knn.ipynb | knn_test_acc | 0.3 | >= 0.28 | yes |" in out
    assert "FAILED" in out and "RuntimeError: boom" in out
    assert (tmp_path / "build/run/assignment1/svm.ipynb").exists()
