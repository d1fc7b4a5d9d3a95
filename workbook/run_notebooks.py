"""Execute the workbook's notebooks in course order and print every recorded result.

    python -m workbook.run_notebooks                 # all notebooks present, into build/run/
    python -m workbook.run_notebooks --assignment 1  # one assignment
    python -m workbook.run_notebooks --inplace       # write outputs back (to commit a full-data run)
    python -m workbook.run_notebooks --jobs 1        # one notebook at a time

Each notebook runs top to bottom in a fresh kernel, in its own folder, driven by a worker
process of its own. Without the full data, two notebooks run side by side (`--jobs auto`),
each with one BLAS thread; on the full data one at a time, since their wall-time targets
assume the machine to themselves. A failing notebook is reported and the run goes on; the
exit status is non-zero at the end if any failed. Ctrl-C stops the whole run (status 130). Results come from `workbook.results.record` calls. A run on the full
data (not quick) updates RESULTS.md and results.json at the repository root.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from cs231n import config
from workbook.results import target_met

NOTEBOOKS = [
    "assignment1/knn.ipynb",
    "assignment1/svm.ipynb",
    "assignment1/softmax.ipynb",
    "assignment1/two_layer_net.ipynb",
    "assignment1/features.ipynb",
    "assignment2/FullyConnectedNets.ipynb",
    "assignment2/BatchNormalization.ipynb",
    "assignment2/Dropout.ipynb",
    "assignment2/ConvolutionalNetworks.ipynb",
    "assignment2/PyTorch.ipynb",
    "assignment2/TensorFlow.ipynb",
    "assignment3/RNN_Captioning.ipynb",
    "assignment3/LSTM_Captioning.ipynb",
    "assignment3/Transformer_Captioning.ipynb",
    "assignment3/NetworkVisualization-PyTorch.ipynb",
    "assignment3/NetworkVisualization-TensorFlow.ipynb",
    "assignment3/StyleTransfer-PyTorch.ipynb",
    "assignment3/StyleTransfer-TensorFlow.ipynb",
    "assignment3/GANs-PyTorch.ipynb",
    "assignment3/GANs-TensorFlow.ipynb",
]
RUN_DIR = config.REPO_ROOT / "build" / "run"
RESULTS_JSON = config.REPO_ROOT / "results.json"
RESULTS_MD = config.REPO_ROOT / "RESULTS.md"
README = config.REPO_ROOT / "README.md"
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
# Wall-time targets of full-data runs (seconds), where an issue sets one: every assignment 1
# notebook within 10 minutes; the open-ended trainings have their own limits inside the notebooks.
def time_limit(nb: str) -> float | None:
    return 600.0 if nb.startswith("assignment1/") else None
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def matches(nb: str, name: str) -> bool:
    """Whether `name` (e.g. "svm", "svm.ipynb" or "assignment1/svm.ipynb") names notebook `nb`."""
    return nb == name or Path(nb).name == name or Path(nb).stem == name


def select(assignment: int | None, names: list[str]) -> list[str]:
    """The notebooks to run, in course order, among those present.

    Raises ValueError for a name that matches no notebook present, listing the valid names.
    """
    present = [nb for nb in NOTEBOOKS if (config.REPO_ROOT / nb).exists()]
    unknown = [n for n in names if not any(matches(nb, n) for nb in present)]
    if unknown:
        valid = ", ".join(Path(nb).stem for nb in present)
        raise ValueError(f"no notebook named {', '.join(unknown)}; valid names: {valid}")
    return [nb for nb in present
            if (assignment is None or nb.startswith(f"assignment{assignment}/"))
            and (not names or any(matches(nb, n) for n in names))]


def execute(nb_rel: str, inplace: bool) -> tuple[bool, float, str]:
    """Run one notebook in a fresh kernel; returns (ok, seconds, error message).

    The kernel inherits this process's environment, which `Job` set up.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    src = config.REPO_ROOT / nb_rel
    nb = nbformat.read(src, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    done = [0]

    def progress(cell, cell_index, **_):
        if cell.cell_type == "code" and sys.stdout.isatty():
            done[0] += 1
            print(f"\r    cell {done[0]}/{code_cells}", end="", flush=True)

    # IPC transport: a local kernel needs no TCP port (and prints no "TCP without encryption").
    km = KernelManager(kernel_name="python3", transport="ipc",
                       connection_file=str(RUN_DIR / f"kernel-{os.getpid()}.json"))
    client = NotebookClient(nb, km=km, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(src.parent)}},
                            on_cell_executed=progress)
    start = time.time()
    error = ""
    try:
        client.execute()
    except CellExecutionError as e:
        if e.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel too: stop the whole run
            raise KeyboardInterrupt from None
        lines = ANSI.sub("", str(e)).strip().splitlines()
        error = lines[-1] if lines else repr(e)
    except Exception as e:  # a dead kernel or a timeout: report it and go on with the next notebook
        error = repr(e)
    finally:
        # The client does not own a kernel manager it was given: shut the kernel down here, or
        # every notebook's kernel would stay alive (and busy) until the run ends.
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    seconds = time.time() - start
    print("\r" + " " * 40 + "\r", end="")
    out = src if inplace and not error else RUN_DIR / nb_rel
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return not error, seconds, error


def record_scale(rec: dict) -> str:
    """full, mini or quick; records written before scales existed carry only data and quick."""
    if "scale" in rec:
        return rec["scale"]
    return "quick" if rec.get("quick") else rec.get("data", "none")


def judged(r: dict) -> bool | None:
    """Whether record `r` meets its course target; None without a target, or when it was measured
    at the mini or quick scale (the course targets are judged on the full data only)."""
    if record_scale(r) in ("mini", "quick"):
        return None
    return target_met(r["value"], r["target"], r["higher_is_better"])


def format_table(records: list[dict]) -> str:
    """A markdown table: notebook, key, value, target, met ("full data only" at other scales)."""
    lines = ["| notebook | result | value | target | met | scale |", "|---|---|---|---|---|---|"]
    for r in records:
        met = judged(r)
        target = "" if r["target"] is None else f"{'>=' if r['higher_is_better'] else '<='} {r['target']:g}"
        verdict = "" if r["target"] is None else ("full data only" if met is None else ("yes" if met else "**no**"))
        lines.append(f"| {r['notebook']} | {r['key']} | {r['value']:.4g} | {target} | {verdict} | {record_scale(r)} |")
    return "\n".join(lines)


def write_results(records: list[dict], notebooks_run: list[str]) -> None:
    """Merge this run's records into results.json (replacing the notebooks run) and RESULTS.md.

    A lock file serializes the read-merge-write of runs that finish side by side.
    """
    import fcntl

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with open(RUN_DIR / "results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _merge_results(records, notebooks_run)


def _merge_results(records: list[dict], notebooks_run: list[str]) -> None:
    old = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else []
    kept = [r for r in old if r["notebook"] not in notebooks_run]
    merged = sorted(kept + records, key=lambda r: (NOTEBOOKS.index(r["notebook"])
                                                  if r["notebook"] in NOTEBOOKS else 99))
    tmp = RESULTS_JSON.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(merged, indent=1) + "\n")
    tmp.replace(RESULTS_JSON)
    md = ["# Results", "",
          "Every number below was produced by `make run` on the full data (`CS231N_DATA` pointing at",
          "the complete datasets), on a 2-core CPU machine with no GPU, by the notebook named in the",
          "row; `results.json` has the same records with their timings. Regenerated by each full run.",
          "", format_table(merged), ""]
    tmp = RESULTS_MD.with_suffix(".md.tmp")
    tmp.write_text("\n".join(md))
    tmp.replace(RESULTS_MD)
    update_readme([r for r in merged if not r["key"].endswith("_notebook_seconds")])
    print(f"wrote {RESULTS_MD.name} and {RESULTS_JSON.name}, and the README's results table")


def update_readme(records: list[dict]) -> None:
    """Replace the README's results table (between its markers) with these records."""
    text = README.read_text()
    if README_START not in text or README_END not in text:
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(f"{head}{README_START}\n{format_table(records)}\n{README_END}{tail}")
    tmp.replace(README)


def full_data_present() -> bool:
    """Whether the notebooks will find the full CIFAR-10 (where `config.find_full_data` looks,
    and in each assignment folder's cs231n/datasets, where the official notebooks look)."""
    if config.find_full_data("cifar-10-batches-py", "data_batch_1"):
        return True
    return any((config.REPO_ROOT / a / config.COURSE_DATASETS / "cifar-10-batches-py" / "data_batch_1").is_file()
               for a in ("assignment1", "assignment2", "assignment3"))


def default_jobs() -> int:
    """Notebooks run side by side: two without the full data (the embedded bundle's runs have no
    wall-time targets), one on the full data (its wall-time targets assume the whole machine)."""
    return 1 if full_data_present() else max(1, min(2, os.cpu_count() or 1))


def parse_jobs(text: str) -> int:
    if text == "auto":
        return default_jobs()
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs {text!r}: give a whole number >= 1, or auto")
    return int(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", type=int, choices=[1, 2, 3])
    parser.add_argument("--inplace", action="store_true", help="write executed notebooks back to their source")
    parser.add_argument("--jobs", type=parse_jobs, default="auto",
                        help="notebooks run side by side (default auto: 2 without the full data, else 1)")
    parser.add_argument("--worker", metavar="OUTCOME", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("notebooks", nargs="*", help="names to run (e.g. svm or assignment1/svm.ipynb)")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.notebooks[0], Path(args.worker), Path(args.root), args.inplace)

    try:
        chosen = select(args.assignment, args.notebooks)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not chosen:
        print(f"no notebooks of assignment {args.assignment} are present yet", file=sys.stderr)
        return 2
    try:
        return run(chosen, args.inplace, args.jobs)
    except KeyboardInterrupt:
        print("\ninterrupted: the run stops here (nothing written to RESULTS.md)", file=sys.stderr)
        return 130


def worker(nb: str, outcome: Path, root: Path, inplace: bool) -> int:
    """Run one notebook (in a process of its own) and write {ok, seconds, error} to `outcome`.

    The results file and the notebook's name reach the kernel through the environment the
    parent set (CS231N_RESULTS, CS231N_NOTEBOOK); `root` is the parent's repository root.
    """
    global RUN_DIR
    config.REPO_ROOT, RUN_DIR = root, root / "build" / "run"
    try:
        ok, seconds, error = execute(nb, inplace)
    except KeyboardInterrupt:
        return 130
    tmp = outcome.with_suffix(".tmp")
    tmp.write_text(json.dumps({"ok": ok, "seconds": seconds, "error": error}))
    tmp.replace(outcome)
    return 0


class Job:
    """One notebook's worker process, with the files it reports through."""

    def __init__(self, index: int, nb: str, inplace: bool, side_by_side: bool):
        self.index, self.nb = index, nb
        stem = f"{Path(nb).stem}-{os.getpid()}"
        self.outcome = RUN_DIR / f"outcome-{stem}.json"
        self.results = RUN_DIR / f"results-{stem}.jsonl"
        self.log = RUN_DIR / "logs" / f"{Path(nb).stem}.log"
        for path in (self.outcome, self.results):
            path.unlink(missing_ok=True)
        env = {**os.environ, "CS231N_NOTEBOOK": nb, "CS231N_RESULTS": str(self.results),
               "CS231N_QUICK": "1" if config.QUICK else ""}
        out = None  # one at a time: the worker shares this terminal (and shows its cell count)
        if side_by_side:  # one BLAS thread each, so that two notebooks share the two cores
            env.update({k: env.get(k) or "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                       "MKL_NUM_THREADS")})
            self.log.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log, "w")
        command = [sys.executable, "-m", "workbook.run_notebooks", "--worker", str(self.outcome),
                   "--root", str(config.REPO_ROOT)] + (["--inplace"] if inplace else []) + [nb]
        self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)
        if out:
            out.close()

    def report(self) -> tuple[bool, float, str, list[dict]]:
        """(ok, seconds, error, records) of a finished worker; KeyboardInterrupt if it was stopped."""
        if self.process.returncode == 130:
            raise KeyboardInterrupt
        if self.outcome.exists():
            outcome = json.loads(self.outcome.read_text())
            self.outcome.unlink()
        else:
            outcome = {"ok": False, "seconds": 0.0,
                       "error": f"the worker exited with status {self.process.returncode} ({self.log})"}
        records = ([json.loads(line) for line in self.results.read_text().splitlines()]
                   if self.results.exists() else [])
        self.results.unlink(missing_ok=True)
        return outcome["ok"], outcome["seconds"], outcome["error"], records


def stop(jobs: list[Job]) -> None:
    """Interrupt running workers (each shuts its kernel down), then kill any that linger."""
    for job in jobs:
        if job.process.poll() is None:
            job.process.send_signal(signal.SIGINT)
    deadline = time.time() + 30
    for job in jobs:
        try:
            job.process.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            job.process.kill()


def run(chosen: list[str], inplace: bool, jobs: int = 1) -> int:
    """Execute `chosen` in course order, `jobs` at a time, print the results table; returns the
    exit status."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    jobs = min(jobs, len(chosen))  # a single notebook keeps both cores
    mode = "quick" if config.QUICK else "full-size"
    data = os.environ.get("CS231N_DATA") or "datasets/ or the embedded bundle"
    side = f", {jobs} side by side (one BLAS thread each)" if jobs > 1 else ""
    print(f"Running {len(chosen)} notebook(s), {mode}, data from {data}{side}")

    pending, running = list(enumerate(chosen, 1)), []
    failures, records, extra = [], [], []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index, nb = pending.pop(0)
                print(f"[{index}/{len(chosen)}] {nb}" + (" started" if jobs > 1 else ""), flush=True)
                running.append(Job(index, nb, inplace, side_by_side=jobs > 1))
            done = [job for job in running if job.process.poll() is not None]
            if not done:
                time.sleep(0.2)
                continue
            for job in done:
                running.remove(job)
                ok, seconds, error, recs = job.report()
                name = f"[{job.index}/{len(chosen)}] {job.nb} " if jobs > 1 else "    "
                print(f"{name}{'ok' if ok else 'FAILED'} in {seconds:.0f}s" + (f": {error}" if error else ""),
                      flush=True)
                records += recs
                if not ok:
                    failures.append(job.nb)
                elif not config.QUICK:
                    extra.append(wall_time_record(job.nb, seconds, recs))
    except KeyboardInterrupt:
        stop(running)
        raise

    order = {nb: i for i, nb in enumerate(chosen)}
    records = sorted(records + extra, key=lambda r: order.get(r["notebook"], len(order)))
    print()
    print(format_table(records) if records else "(no results recorded)")
    missed = [r for r in records if judged(r) is False]
    failures.sort(key=order.get)
    print(f"\n{len(records)} results, {len(missed)} below target; {len(failures)} notebook(s) failed"
          + (": " + ", ".join(failures) if failures else ""))
    full_run = not config.QUICK and records and all(r["data"] in ("full", "none") for r in records)
    if full_run and not failures:
        write_results(records, chosen)
    elif records:
        print("Course targets are judged on the full data only. For the full-data numbers: "
              "`make data`, then `make run` (or set CS231N_DATA to a folder with the data).")
    return 1 if failures else 0


def wall_time_record(nb: str, seconds: float, records: list[dict]) -> dict:
    """The notebook's wall time as a result, with the data label and scale of its own records."""
    rec = {"notebook": nb, "key": f"{Path(nb).stem.lower()}_notebook_seconds",
           "value": round(seconds, 1), "target": time_limit(nb), "higher_is_better": False,
           "quick": False, "seconds": round(seconds, 1)}
    for field in ("data", "scale"):
        labels = {r.get(field) for r in records}
        rec[field] = labels.pop() if len(labels) == 1 else "none"
    return rec


if __name__ == "__main__":
    sys.exit(main())
