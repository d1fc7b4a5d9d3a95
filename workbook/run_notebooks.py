"""Execute the workbook's notebooks in course order and print every recorded result.

    python -m workbook.run_notebooks                 # all notebooks present, into build/run/
    python -m workbook.run_notebooks --assignment 1  # one assignment
    python -m workbook.run_notebooks --inplace       # write outputs back (to commit a full-data run)

Each notebook runs top to bottom in a fresh kernel, in its own folder. A failing
notebook is reported and the run goes on; the exit status is non-zero at the end
if any failed. Results come from `workbook.results.record` calls. A run on the full
data (not quick) updates RESULTS.md and results.json at the repository root.
"""
from __future__ import annotations

import argparse
import json
import os
import re
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


def execute(nb_rel: str, results_file: Path, inplace: bool) -> tuple[bool, float, str]:
    """Run one notebook in a fresh kernel; returns (ok, seconds, error message)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    src = config.REPO_ROOT / nb_rel
    nb = nbformat.read(src, as_version=4)
    env_keys = {"CS231N_NOTEBOOK": nb_rel, "CS231N_RESULTS": str(results_file)}
    os.environ.update(env_keys)
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


def format_table(records: list[dict]) -> str:
    """A markdown table: notebook, key, value, target, met."""
    lines = ["| notebook | result | value | target | met | scale |", "|---|---|---|---|---|---|"]
    for r in records:
        met = target_met(r["value"], r["target"], r["higher_is_better"])
        target = "" if r["target"] is None else f"{'>=' if r['higher_is_better'] else '<='} {r['target']:g}"
        verdict = "" if met is None else ("yes" if met else "**no**")
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", type=int, choices=[1, 2, 3])
    parser.add_argument("--inplace", action="store_true", help="write executed notebooks back to their source")
    parser.add_argument("notebooks", nargs="*", help="names to run (e.g. svm or assignment1/svm.ipynb)")
    args = parser.parse_args(argv)

    try:
        chosen = select(args.assignment, args.notebooks)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not chosen:
        print(f"no notebooks of assignment {args.assignment} are present yet", file=sys.stderr)
        return 2
    try:
        return run(chosen, args.inplace)
    except KeyboardInterrupt:
        print("\ninterrupted: the run stops here (nothing written to RESULTS.md)", file=sys.stderr)
        return 130


def run(chosen: list[str], inplace: bool) -> int:
    """Execute `chosen` in order, print the results table; returns the exit status."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    # One results file per run: runs started side by side must not share (or delete) one.
    results_file = RUN_DIR / f"results-{os.getpid()}.jsonl"
    results_file.unlink(missing_ok=True)
    mode = "quick" if config.QUICK else "full-size"
    data = os.environ.get("CS231N_DATA") or "datasets/ or the embedded bundle"
    print(f"Running {len(chosen)} notebook(s), {mode}, data from {data}")

    failures = []
    extra = []
    for i, nb in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {nb}", flush=True)
        ok, seconds, error = execute(nb, results_file, inplace)
        print(f"    {'ok' if ok else 'FAILED'} in {seconds:.0f}s" + (f": {error}" if error else ""), flush=True)
        if not ok:
            failures.append(nb)
        if ok and not config.QUICK:
            extra.append({"notebook": nb, "key": f"{Path(nb).stem.lower()}_notebook_seconds",
                          "value": round(seconds, 1), "target": time_limit(nb),
                          "higher_is_better": False, "data": "", "quick": False, "scale": "",
                          "seconds": round(seconds, 1)})

    records = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
    for rec in extra:  # the notebook's own data label and scale apply to its wall time too
        for field in ("data", "scale"):
            labels = {r.get(field) for r in records if r["notebook"] == rec["notebook"]}
            rec[field] = labels.pop() if len(labels) == 1 else "none"
    records += extra
    print()
    print(format_table(records) if records else "(no results recorded)")
    missed = [r for r in records if target_met(r["value"], r["target"], r["higher_is_better"]) is False]
    print(f"\n{len(records)} results, {len(missed)} below target; {len(failures)} notebook(s) failed"
          + (": " + ", ".join(failures) if failures else ""))
    full_run = not config.QUICK and records and all(r["data"] in ("full", "none") for r in records)
    if full_run and not failures:
        write_results(records, chosen)
    elif records:
        print("Course targets are judged on the full data only. For the full-data numbers: "
              "`make data`, then `make run` (or set CS231N_DATA to a folder with the data).")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
