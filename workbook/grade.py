"""Grade a student's copy: `make grade DIR=path` or `python -m workbook.grade DIR`.

Runs OUR tests (this repository's tests/, never the copy's own, which a student could edit)
against DIR's `cs231n` package, and prints one row per task (the pytest markers that
tests/conftest.py gives the tests):

    task            passed  points  note
    knn              12/12   10/10
    svm               0/19    0/10  NotImplementedError: svm: implement svm_loss_naive (see ...)

Scoring is all or nothing: a task scores its 10 points when every one of its tests passes,
else 0; "passed" shows the progress. Skipped tests do not count. Tasks build on each other
(the assignment 2 networks use the layers), so a task can fail because of another one. A
module of the copy that does not import fails only the tests that import it; a task without
tests yet is listed as such and not scored, and so is a notebook task (NOTEBOOK_TASKS in
tests/conftest.py: the student's work is all in notebook cells, e.g. `features`, whose package
code the course gives), which the table says to grade by reading its notebook. The exit status
is 0 when every scored task has full marks, 1 when one does not, 2 when the copy could not be
graded at all.

The grader runs the student's code: grade copies you do not trust in a sandbox.

`python -m workbook.grade --report FILE` scores an existing JUnit report of our tests (the
unit run writes one in `make test`), and `--kit-check FILE` is the CI check: the solutions
(that report) have every task in full, and a freshly built kit has every task at zero (every
scored task must have solution blocks in the package for the kit to stub).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from workbook import starter

REPO_ROOT = Path(__file__).resolve().parent.parent
POINTS = 10                  # per task, all or nothing
DEFAULT_TIMEOUT = 3600       # seconds for the whole test run


@dataclass
class TaskResult:
    task: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)   # first line of each failure

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def points(self) -> int:
        return POINTS if self.total and not self.failed else 0

    @property
    def note(self) -> str:
        """The NotImplementedError that names this task, else the first failure, else ''."""
        nie = [f for f in self.failures if f.startswith("NotImplementedError")]
        own = [f for f in nie if f.split(":", 1)[-1].strip().startswith(f"{self.task}:")]
        return (own or nie or self.failures or [""])[0]


@dataclass
class Grade:
    tasks: dict[str, TaskResult]
    ungraded: int = 0                       # tests that belong to no task
    ungraded_errors: list[str] = field(default_factory=list)   # ungraded files that did not import
    problem: str = ""                       # why the copy could not be graded, if it could not
    notebook_tasks: tuple[str, ...] = ()    # graded by reading the notebook, not by tests

    @property
    def scored(self) -> list[TaskResult]:
        return [r for r in self.tasks.values() if r.total]

    @property
    def exit_status(self) -> int:
        if self.problem:
            return 2
        return 0 if all(r.points == POINTS for r in self.scored) else 1

    def table(self) -> str:
        rows = [f"{'task':<18} {'passed':>8} {'points':>7}  note"]
        for r in self.tasks.values():
            if r.total:
                skipped = f" ({r.skipped} skipped)" if r.skipped else ""
                note = _shorten(r.note) + skipped if r.failed else skipped.strip()
                rows.append(f"{r.task:<18} {r.passed:>4}/{r.total:<3} {r.points:>3}/{POINTS:<3}  "
                            f"{note}".rstrip())
            elif r.task in self.notebook_tasks:
                notebook = starter.TASK_NOTEBOOKS.get(r.task, "its notebook")
                rows.append(f"{r.task:<18} {'-':>8} {'-':>7}  not graded by tests: the work is in "
                            f"the cells of {notebook}; read them")
            else:
                rows.append(f"{r.task:<18} {'-':>8} {'-':>7}  no tests yet")
        got, out_of = sum(r.points for r in self.scored), POINTS * len(self.scored)
        rows.append(f"{'total':<18} {'':>8} {got:>3}/{out_of:<3}")
        rows.append(f"ungraded: {self.ungraded} tests belong to no task")
        rows += [f"ungraded file did not import: {e}" for e in self.ungraded_errors]
        if self.problem:
            rows.append(f"NOT GRADED: {self.problem}")
        return "\n".join(rows)


def _shorten(text: str, width: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def load_suite(tests_dir: Path):
    """The task table of a test suite: its tests/conftest.py (TASKS, TASK_TABLE, task_for)."""
    spec = importlib.util.spec_from_file_location("_graded_suite_conftest", tests_dir / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def empty_grade(suite) -> Grade:
    """A Grade with every task of the suite and nothing scored yet."""
    return Grade({task: TaskResult(task) for task in suite.TASKS},
                 notebook_tasks=tuple(getattr(suite, "NOTEBOOK_TASKS", ())))


def _first_line(element) -> str:
    message = (element.get("message") or "").strip()
    if message in ("", "collection failure") or message.startswith("failed on"):
        errors = [ln[1:].strip() for ln in (element.text or "").splitlines() if ln.startswith("E ")]
        message = errors[-1] if errors else message or element.tag
    return message.splitlines()[0] if message else element.tag


def parse_report(xml_path: Path, suite) -> Grade:
    """Score a JUnit XML report (pytest --junitxml, junit_family=xunit1) of the suite's tests."""
    grade = empty_grade(suite)
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped") is not None
        if not case.get("classname") and failure is not None:      # a file that did not import
            filename = Path(case.get("file") or case.get("name").replace(".", "/") + ".py").name
            tasks = {task for pattern, _, task in suite.TASK_TABLE if fnmatch(filename, pattern)}
            for task in tasks:
                grade.tasks[task].failed += 1
                grade.tasks[task].failures.append(
                    f"tests/{filename} did not import: {_first_line(failure)}")
            if not tasks:
                grade.ungraded_errors.append(f"tests/{filename}: {_first_line(failure)}")
            continue
        task = props.get("task")
        if task not in grade.tasks:
            if Path(case.get("file") or "").name not in starter.TOOLING_TESTS:
                grade.ungraded += 1
            continue
        result = grade.tasks[task]
        if failure is not None:
            result.failed += 1
            result.failures.append(_first_line(failure))
        elif skipped:
            result.skipped += 1
        else:
            result.passed += 1
    return grade


def _run(cmd, env, cwd, timeout, log: Path) -> tuple[int | None, str]:
    """Run cmd in its own process group (killed whole on timeout); returns (rc or None, output)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    return rc, log.read_text(errors="replace")


# Runs in the grading process before anything is imported: only the copy's `cs231n` may be found.
# An editable install of a workbook (pip install -e ., as `make setup` does) adds an import hook
# that would quietly supply OUR module for any module the copy lacks; path entries holding another
# cs231n/ are dropped too. argv: STUDENT_DIR where | STUDENT_DIR pytest PYTEST_ARGS...
_BOOT = """
import os, sys
from pathlib import Path
student, mode, args = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3:]
foreign = lambda f: getattr(f, "__module__", "").startswith("__editable__")
sys.meta_path[:] = [f for f in sys.meta_path if not foreign(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if not foreign(h)]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() == student
               or not (Path(p or ".") / "cs231n").exists()]
sys.path_importer_cache.clear()
if mode == "where":
    import cs231n
    print(cs231n.__file__)
else:
    import pytest
    sys.exit(pytest.main(args))
"""


def grade(student: Path, tests_dir: Path = REPO_ROOT / "tests", timeout: float = DEFAULT_TIMEOUT,
          verbose: bool = False) -> Grade:
    """Run the suite in tests_dir against student/cs231n and score it by task."""
    student, tests_dir = Path(student).resolve(), Path(tests_dir).resolve()
    suite = load_suite(tests_dir)
    empty = empty_grade(suite)
    if not (student / "cs231n" / "__init__.py").is_file():
        empty.problem = f"{student}/cs231n/__init__.py not found: DIR is the copy's top folder"
        return empty
    rootdir = tests_dir.parent
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env.update(PYTHONPATH=str(student), TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0",
               PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory(prefix="cs231n-grade-") as work:
        work = Path(work)
        # `import cs231n` must be the copy's, not this repository's (editable install, rootdir)
        where = subprocess.run([sys.executable, "-P", "-c", _BOOT, str(student), "where"],
                               env=env, cwd=work, capture_output=True, text=True, timeout=600,
                               check=False)
        found = where.stdout.strip().splitlines()[-1:] if where.returncode == 0 else []
        if found and not Path(found[0]).resolve().is_relative_to(student):
            empty.problem = f"`import cs231n` gives {found[0]}, not the copy in {student}"
            return empty
        report = work / "report.xml"
        pythonpath = str(student) if not re.search(r"\s", str(student)) else ""
        tooling = [f"--ignore={tests_dir / name}" for name in starter.TOOLING_TESTS]
        cmd = [sys.executable, "-P", "-c", _BOOT, str(student), "pytest",
               str(tests_dir), *tooling, "--rootdir", str(rootdir),
               "-c", str(rootdir / "pyproject.toml"), "-o", f"pythonpath={pythonpath}",
               "-p", "no:cacheprovider", "-q", "--tb=short", "-m", " or ".join(suite.TASKS),
               "--continue-on-collection-errors", f"--junitxml={report}",
               "-o", "junit_family=xunit1"]
        rc, output = _run(cmd, env, work, timeout, work / "pytest.log")
        if verbose:
            print(output)
        if rc is None or not report.is_file() or rc not in (0, 1, 5):
            why = f"timed out after {timeout:g}s" if rc is None else f"pytest exited with {rc}"
            tail = "\n".join(output.splitlines()[-15:])
            empty.problem = f"the test run did not finish ({why}); its last lines:\n{tail}"
            return empty
        result = parse_report(report, suite)
        deselected = re.search(r"(\d+) deselected", output)
        result.ungraded += int(deselected.group(1)) if deselected else 0
        return result


# --------------------------------------------------------------------------- CI: the kit check


def kit_check(solutions_report: Path | None, tests_dir: Path = REPO_ROOT / "tests") -> int:
    """The solutions score every task in full, a fresh kit every task at zero; 0 when both hold."""
    problems = []
    suite = load_suite(tests_dir)
    t0 = time.perf_counter()
    if solutions_report is not None:
        solutions = parse_report(Path(solutions_report), suite)
        print(f"solutions (from {solutions_report}):")
    else:
        solutions = grade(REPO_ROOT, tests_dir)
        print(f"solutions (graded in {time.perf_counter() - t0:.0f} s):")
    print(solutions.table(), "\n")
    problems += [f"solutions: {r.task} scores {r.points}/{POINTS} ({r.passed}/{r.total}): "
                 f"{_shorten(r.note)}" for r in solutions.scored if r.points != POINTS]
    if solutions.problem:
        problems.append(f"solutions: {solutions.problem}")

    with tempfile.TemporaryDirectory(prefix="cs231n-kit-check-") as tmp:
        t0 = time.perf_counter()
        kit = starter.make_starter(Path(tmp) / "starter")
        built = time.perf_counter() - t0
        stubbed = {s.task for s in kit.stubs}
        t0 = time.perf_counter()
        result = grade(kit.dest, tests_dir)
        graded = time.perf_counter() - t0
    print(f"starter kit (built in {built:.0f} s, graded in {graded:.0f} s, exit status "
          f"{result.exit_status}):")
    print(result.table())
    if result.exit_status != 1:
        problems.append(f"kit: the grader exited with {result.exit_status}, not 1")
    for r in result.scored:
        if r.task not in stubbed:
            problems.append(f"kit: {r.task} has graded tests but no solution block in the package, "
                            f"so the kit cannot ask for it ({r.passed}/{r.total} pass in the kit): "
                            f"mark its code, or list it in NOTEBOOK_TASKS and its tests in "
                            f"UNGRADED (tests/conftest.py)")
            continue
        if r.points:
            problems.append(f"kit: {r.task} scores {r.points}/{POINTS} although its code is "
                            f"stubbed: its tests do not reach the stubs")
        if not any(f.startswith(f"NotImplementedError: {r.task}:") for f in r.failures):
            problems.append(f"kit: no test of {r.task} fails with the task's NotImplementedError "
                            f"(first failure: {_shorten(r.note)})")
    missing = {r.task for r in solutions.scored} - {r.task for r in result.scored}
    problems += [f"kit: {task} has tests for the solutions but none ran on the kit"
                 for task in sorted(missing)]
    for problem in problems:
        print(f"KIT CHECK FAILED: {problem}")
    if not problems:
        print("kit check passed: the solutions score every task in full, the kit every scored "
              "task at zero")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook.grade",
        description="Grade a copy of the workbook (a student's kit) with this repository's tests.")
    parser.add_argument("dir", nargs="?", type=Path, help="the copy's top folder (holds cs231n/)")
    parser.add_argument("--report", type=Path, help="score this JUnit report instead of a run")
    parser.add_argument("--kit-check", nargs="?", const="", metavar="REPORT",
                        help="CI: build and grade the kit; grade the solutions from REPORT (a "
                             "JUnit report of the unit run) or, without it, by a run")
    parser.add_argument("--tests", type=Path, default=REPO_ROOT / "tests", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds for the whole test run (default {DEFAULT_TIMEOUT})")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    args = parser.parse_args(argv)
    if args.kit_check is not None:
        return kit_check(Path(args.kit_check) if args.kit_check else None, args.tests)
    if args.report:
        result = parse_report(args.report, load_suite(args.tests))
    elif args.dir:
        print(f"grading {args.dir} with {args.tests} (pytest, {shlex.quote(sys.executable)})")
        result = grade(args.dir, args.tests, args.timeout, args.verbose)
    else:
        parser.error("give DIR, --report FILE or --kit-check")
    print(result.table())
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
