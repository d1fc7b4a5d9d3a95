"""The grader (workbook/grade.py) and the task markers (tests/conftest.py)."""
import ast
import tomllib
from pathlib import Path

import pytest

from cs231n import config
from workbook import grade, starter

TESTS = config.REPO_ROOT / "tests"
CONFTEST = (TESTS / "conftest.py").read_text()


# --------------------------------------------------------------------------- the task table

suite = grade.load_suite(TESTS)


def _test_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test")]


def test_tasks_are_the_registered_markers_and_the_starters():
    markers = tomllib.loads((config.REPO_ROOT / "pyproject.toml").read_text())
    markers = markers["tool"]["pytest"]["ini_options"]["markers"]
    registered = [m.split(":")[0] for m in markers if ": task," in m]
    assert registered == list(suite.TASKS) == list(starter.TASK_NOTEBOOKS)
    assert {task for _, _, task in suite.TASK_TABLE} <= set(suite.TASKS)
    assert {task for _, _, task, _ in starter.STUB_TASKS} <= set(suite.TASKS)


def test_every_test_file_is_classified_and_every_test_of_a_graded_file_has_a_task():
    unclassified, untasked = [], []
    for path in sorted(TESTS.glob("test_*.py")):
        graded = [row for row in suite.TASK_TABLE if grade.fnmatch(path.name, row[0])]
        if not graded:
            if path.name not in suite.UNGRADED:
                unclassified.append(path.name)
            continue
        assert path.name not in suite.UNGRADED, f"{path.name} is both graded and ungraded"
        untasked += [f"{path.name}::{name}" for name in _test_functions(path)
                     if suite.task_for(path.name, name) is None]
    assert not unclassified, (f"add these files to TASK_TABLE (graded) or UNGRADED in "
                              f"tests/conftest.py: {unclassified}")
    assert not untasked, f"tests of graded files that no TASK_TABLE row matches: {untasked}"


@pytest.mark.parametrize("filename, test, task", [
    ("test_layers.py", "test_affine_forward_course_values", "fc_net"),
    ("test_layers.py", "test_losses_reject_bad_labels", "fc_net"),
    ("test_layers.py", "test_spatial_batchnorm_forward_course_checks", "batchnorm"),
    ("test_layers.py", "test_spatial_groupnorm_errors", "batchnorm"),
    ("test_layers.py", "test_dropout_forward_course_checks", "dropout"),
    ("test_layers.py", "test_conv_forward_naive_course_values", "conv"),
    ("test_layers.py", "test_max_pool_naive_matches_torch", "conv"),
    ("test_layer_utils.py", "test_affine_norm_relu", "batchnorm"),
    ("test_layer_utils.py", "test_affine_relu", "fc_net"),
    ("test_layer_utils.py", "test_conv_bn_relu_pool", "conv"),
    ("test_k_nearest_neighbor.py", "test_predict_labels_matches_a_loop_reference", "knn"),
    ("test_rnn_layers.py", "test_lstm_step_forward", "lstm"),
    ("test_rnn_layers.py", "test_rnn_step_forward", "rnn"),
    ("test_cifar10_pytorch_net.py", "test_anything", "pytorch"),
    ("test_data_utils.py", "test_mini_bundle_cifar", None),
])
def test_task_for(filename, test, task):
    assert suite.task_for(filename, test) == task


# --------------------------------------------------------------------------- a tiny graded copy


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture
def tiny(tmp_path):
    """Our grading machinery (the conftest hook) over a tiny suite and a student's tiny package.

    The suite's own folder holds a `cs231n` too, on its pytest pythonpath (as this repository's
    does): the grader must import the student's, never it.
    """
    suite_dir, student = tmp_path / "suite", tmp_path / "student"
    markers = ", ".join(f'"{t}: task"' for t in ("knn", "svm", "conv"))
    _write(suite_dir, {
        "pyproject.toml": f'[tool.pytest.ini_options]\npythonpath = ["."]\nmarkers = [{markers}]\n',
        "cs231n/__init__.py": "WHO = 'the solutions'\n",
        "cs231n/knn.py": "def f():\n    return 1\n",
        "tests/conftest.py": CONFTEST + (
            "\nTASKS = ('knn', 'svm', 'conv')\n"
            "TASK_TABLE = [('test_tiny.py', r'knn', 'knn'), ('test_tiny.py', r'svm', 'svm'),\n"
            "              ('test_broken.py', None, 'conv')]\n"),
        "tests/test_tiny.py": f"""
import os
from pathlib import Path
import pytest
import cs231n

def test_knn_is_the_students_copy():
    assert cs231n.WHO == 'the student'
    assert Path(cs231n.__file__).resolve().is_relative_to({str(student)!r})

def test_knn_never_borrows_a_module_the_copy_lacks():
    # cs231n.optim exists in the workbook the venv installs in editable mode (make setup)
    with pytest.raises(ModuleNotFoundError):
        import cs231n.optim

def test_knn_value():
    from cs231n.knn import f
    assert f() == 1

def test_svm_loss():
    from cs231n.svm import g
    assert g() == 2

def test_not_a_task():
    pass
""",
        "tests/test_broken.py": "from cs231n.conv import h\n\ndef test_conv():\n    assert h()\n",
    })
    _write(student, {
        "cs231n/__init__.py": "WHO = 'the student'\n",
        "cs231n/knn.py": "def f():\n    return 1\n",
        "cs231n/svm.py": "def g():\n    raise NotImplementedError('svm: implement g (see svm.ipynb)')\n",
        "cs231n/conv.py": "def h(:\n",                        # a module that does not import
        "tests/test_tiny.py": "def test_svm_loss():\n    pass\n",   # the student's edit: ignored
    })
    return suite_dir, student


def test_grades_each_task_of_a_tiny_copy(tiny):
    suite_dir, student = tiny
    result = grade.grade(student, suite_dir / "tests", timeout=300)
    assert result.problem == ""
    rows = {t: (r.passed, r.total, r.points) for t, r in result.tasks.items()}
    assert rows == {"knn": (3, 3, 10), "svm": (0, 1, 0), "conv": (0, 1, 0)}
    assert result.tasks["svm"].note == "NotImplementedError: svm: implement g (see svm.ipynb)"
    assert result.tasks["conv"].note.startswith("tests/test_broken.py did not import: ")
    assert "SyntaxError" in result.tasks["conv"].note
    assert result.ungraded == 1 and result.exit_status == 1
    table = result.table().splitlines()
    assert table[1].split() == ["knn", "3/3", "10/10"]
    assert table[2].split()[:3] == ["svm", "0/1", "0/10"]
    assert "NotImplementedError: svm: implement g (see svm.ipynb)" in table[2]
    assert "total" in table[4] and "10/30" in table[4]
    assert "ungraded: 1 tests belong to no task" in table


def test_full_marks_exit_zero_and_the_command_line(tiny, capsys):
    suite_dir, student = tiny
    (student / "cs231n/svm.py").write_text("def g():\n    return 2\n")
    (student / "cs231n/conv.py").write_text("def h():\n    return True\n")
    status = grade.main([str(student), "--tests", str(suite_dir / "tests")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "30/30" in out


def test_a_copy_without_a_package_is_not_graded(tiny):
    suite_dir, student = tiny
    result = grade.grade(student / "cs231n", suite_dir / "tests")
    assert result.exit_status == 2 and "cs231n/__init__.py not found" in result.problem
    assert "NOT GRADED" in result.table()


def test_a_run_past_the_timeout_is_reported_not_hung(tiny):
    suite_dir, student = tiny
    (student / "cs231n/knn.py").write_text("import time\ndef f():\n    time.sleep(600)\n")
    result = grade.grade(student, suite_dir / "tests", timeout=5)
    assert result.exit_status == 2 and "timed out after 5" in result.problem


# --------------------------------------------------------------------------- the CI check


def _grade(**tasks):
    result = grade.Grade({t: grade.TaskResult(t) for t in ("knn", "features", "conv")},
                         notebook_tasks=("features",))
    for task, (passed, failures) in tasks.items():
        result.tasks[task].passed = passed
        result.tasks[task].failed = len(failures)
        result.tasks[task].failures = failures
    return result


@pytest.mark.parametrize("kit_knn, solutions_conv, problem", [
    ((0, ["NotImplementedError: knn: implement f"]), (3, []), None),
    ((2, []), (3, []), "kit: knn scores 10/10 although its code is stubbed"),
    ((1, ["AssertionError"]), (3, []), "kit: no test of knn fails with the task's"),
    ((0, ["NotImplementedError: knn: implement f"]), (2, ["boom"]), "solutions: conv scores 0"),
])
def test_kit_check_verdicts(monkeypatch, tmp_path, capsys, kit_knn, solutions_conv, problem):
    stubs = [starter.Stub("cs231n/k.py", 1, "f", "knn", "k.ipynb"),
             starter.Stub("cs231n/c.py", 1, "h", "conv", "c.ipynb")]
    kit = _grade(knn=kit_knn, conv=(0, ["NotImplementedError: conv: x"]))
    solutions = _grade(knn=(2, []), conv=solutions_conv)
    monkeypatch.setattr(grade, "load_suite", lambda tests: None)
    monkeypatch.setattr(grade, "parse_report", lambda report, suite: solutions)
    monkeypatch.setattr(grade, "grade", lambda dest, tests: kit)
    monkeypatch.setattr(starter, "make_starter",
                        lambda dest: starter.Kit(dest=dest, stubs=stubs))
    status = grade.kit_check(tmp_path / "report.xml")
    out = capsys.readouterr().out
    assert "features" in out and "not graded by tests: the work is in the cells of " \
        "assignment1/features.ipynb" in out
    if problem is None:
        assert status == 0 and "kit check passed" in out
    else:
        assert status == 1 and f"KIT CHECK FAILED: {problem}" in out


def test_kit_check_fails_a_graded_task_the_kit_cannot_stub(monkeypatch, tmp_path, capsys):
    """Tests that grade a task with no solution block would give the kit free points."""
    stubs = [starter.Stub("cs231n/k.py", 1, "f", "knn", "k.ipynb")]
    kit = _grade(knn=(0, ["NotImplementedError: knn: implement f"]), features=(2, []))
    solutions = _grade(knn=(2, []), features=(2, []))
    monkeypatch.setattr(grade, "load_suite", lambda tests: None)
    monkeypatch.setattr(grade, "parse_report", lambda report, suite: solutions)
    monkeypatch.setattr(grade, "grade", lambda dest, tests: kit)
    monkeypatch.setattr(starter, "make_starter",
                        lambda dest: starter.Kit(dest=dest, stubs=stubs))
    assert grade.kit_check(tmp_path / "report.xml") == 1
    assert "KIT CHECK FAILED: kit: features has graded tests but no solution block" \
        in capsys.readouterr().out


def test_notebook_tasks_have_no_graded_tests_and_no_package_blocks():
    """A notebook task (the course gives its package code) is graded by reading its notebook:
    no test, no solution block, and its notebook has cells for the student to write."""
    assert set(suite.NOTEBOOK_TASKS) <= set(suite.TASKS)
    for task in suite.NOTEBOOK_TASKS:
        assert task not in {t for _, _, t in suite.TASK_TABLE}, task
        assert task not in {t for _, _, t, _ in starter.STUB_TASKS}, task
        notebook = (config.REPO_ROOT / starter.TASK_NOTEBOOKS[task]).read_text()
        assert f'"{starter.SOLUTION_TAG}"' in notebook, f"{task}: no cell tagged for the student"
    result = grade.empty_grade(suite)
    assert "features  " in result.table() and "not graded by tests" in result.table()
