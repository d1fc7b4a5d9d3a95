"""Build the student starter kit from the solution source: `make starter` or
`python -m workbook.starter [DEST] [--force]` (default DEST: build/starter).

The kit is this workbook with the solutions taken out:
- cs231n/: the code between each pair of official markers
      # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
      # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
  becomes `raise NotImplementedError("<task>: implement <function> (see <notebook>)")`; the
  markers and the TODO comments above them stay, so every module imports and every unwritten
  function fails with a message that names its task (STUB_TASKS says which task a function is);
- assignment*/: notebooks with outputs and execution counts cleared; code cells tagged
  `solution` lose the code between the markers (the prompt comments above START stay), markdown
  cells tagged `inline-answer` keep their question and end in "*Your answer:*";
- workbook/ minus the maintainer tools (runner, starter, grader), datasets/ (the embedded
  bundle, not downloaded data), tests/ minus the tooling tests, requirements.txt,
  pyproject.toml, setup.py, and the kit's own Makefile and README.md (workbook/kit/).

The kit is built in a temporary folder beside DEST and renamed into place at the end: on any
error no partial kit remains, and a DEST that existed is left as it was.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

START = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
END = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
REPO_ROOT = Path(__file__).resolve().parent.parent
KIT_TEMPLATES = Path(__file__).resolve().parent / "kit"
DEFAULT_DEST = Path("build/starter")

SOLUTION_TAG = "solution"            # code cell: the code between the markers is the student's
ANSWER_TAG = "inline-answer"         # markdown cell: the text after ANSWER_PROMPT is the answer
ANSWER_PROMPT = "**Your answer:**"
ANSWER_STUB = "*Your answer:*"

A1, A2, A3 = "assignment1/", "assignment2/", "assignment3/"
FC, BN, CONV = A2 + "FullyConnectedNets.ipynb", A2 + "BatchNormalization.ipynb", \
    A2 + "ConvolutionalNetworks.ipynb"

# Every task (a pytest marker, see tests/conftest.py) and the notebook that teaches it.
TASK_NOTEBOOKS = {
    "knn": A1 + "knn.ipynb",
    "svm": A1 + "svm.ipynb",
    "softmax": A1 + "softmax.ipynb",
    "two_layer_net": A1 + "two_layer_net.ipynb",
    "features": A1 + "features.ipynb",
    "fc_net": FC,
    "optim": FC,
    "batchnorm": BN,
    "dropout": A2 + "Dropout.ipynb",
    "conv": CONV,
    "pytorch": A2 + "PyTorch.ipynb",
    "tensorflow": A2 + "TensorFlow.ipynb",
    "rnn": A3 + "RNN_Captioning.ipynb",
    "lstm": A3 + "LSTM_Captioning.ipynb",
    "captioning": A3 + "RNN_Captioning.ipynb",
    "transformer": A3 + "Transformer_Captioning.ipynb",
    "net_visualization": A3 + "NetworkVisualization-PyTorch.ipynb",
    "style_transfer": A3 + "StyleTransfer-PyTorch.ipynb",
    "gan": A3 + "GANs-PyTorch.ipynb",
}

# Which task each solution block belongs to: (module, regex searched in the qualified name of the
# function around the block or None for any, task, notebook or None for the task's notebook).
# The first matching row wins. A block that no row matches is a build error.
STUB_TASKS: list[tuple[str, str | None, str, str | None]] = [
    ("cs231n/classifiers/k_nearest_neighbor.py", None, "knn", None),
    ("cs231n/classifiers/linear_svm.py", None, "svm", None),
    ("cs231n/classifiers/linear_classifier.py", None, "svm", None),
    ("cs231n/classifiers/softmax.py", None, "softmax", None),
    ("cs231n/classifiers/neural_net.py", None, "two_layer_net", None),
    ("cs231n/layers.py", r"^(affine|relu)_|^(svm|softmax)_loss$", "fc_net", None),
    ("cs231n/layers.py", r"^spatial_(batch|group)norm_", "batchnorm", CONV),
    ("cs231n/layers.py", r"^(batchnorm|layernorm)_", "batchnorm", None),
    ("cs231n/layers.py", r"^dropout_", "dropout", None),
    ("cs231n/layers.py", r"^(conv|max_pool)_", "conv", None),
    ("cs231n/layer_utils.py", r"norm", "batchnorm", None),
    ("cs231n/layer_utils.py", r"^affine_relu_", "fc_net", None),
    ("cs231n/layer_utils.py", r"^conv_", "conv", None),
    ("cs231n/classifiers/fc_net.py", None, "fc_net", None),
    ("cs231n/optim.py", None, "optim", None),
    ("cs231n/solver.py", None, "fc_net", None),
    ("cs231n/classifiers/cnn.py", None, "conv", None),
    ("cs231n/fast_layers.py", None, "conv", None),
    ("cs231n/cifar10_pytorch.py", None, "pytorch", None),
    ("cs231n/cifar10_tensorflow.py", None, "tensorflow", None),
    ("cs231n/rnn_layers.py", r"lstm", "lstm", None),
    ("cs231n/rnn_layers.py", None, "rnn", None),
    ("cs231n/classifiers/rnn.py", None, "captioning", None),
    ("cs231n/transformer_layers.py", None, "transformer", None),
    ("cs231n/classifiers/transformer.py", None, "transformer", None),
    ("cs231n/net_visualization_pytorch.py", None, "net_visualization", None),
    ("cs231n/net_visualization_tensorflow.py", None, "net_visualization",
     A3 + "NetworkVisualization-TensorFlow.ipynb"),
    ("cs231n/style_transfer_pytorch.py", None, "style_transfer", None),
    ("cs231n/style_transfer_tensorflow.py", None, "style_transfer",
     A3 + "StyleTransfer-TensorFlow.ipynb"),
    ("cs231n/gan_pytorch.py", None, "gan", None),
    ("cs231n/gan_utils.py", None, "gan", None),
    ("cs231n/gan_tensorflow.py", None, "gan", A3 + "GANs-TensorFlow.ipynb"),
]

# What the kit holds besides cs231n/, assignment*/ and its own README.md and Makefile.
COPIED_FILES = ["requirements.txt", "pyproject.toml", "setup.py"]
MAINTAINER_TOOLS = {"run_notebooks.py", "starter.py", "grade.py", "kit"}   # under workbook/
# Tests of the maintainer tooling (and of bench/, which the kit leaves out): not in the kit.
TOOLING_TESTS = {"test_results.py", "test_starter.py", "test_starter_frameworks.py", "test_grade.py",
                 "test_run_notebooks.py", "test_bench.py"}
_BUILD_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.c",
                                     ".ipynb_checkpoints", ".pytest_cache")


class StarterError(ValueError):
    """The kit cannot be built (the message says where and why)."""


@dataclass
class Stub:
    module: str          # path in the kit, e.g. cs231n/layers.py
    line: int            # line of the START marker
    function: str        # qualified name of the enclosing function, e.g. Solver.train
    task: str
    notebook: str

    @property
    def message(self) -> str:
        return f"{self.task}: implement {self.function} (see {self.notebook})"


@dataclass
class Kit:
    dest: Path
    stubs: list[Stub] = field(default_factory=list)
    solution_cells: int = 0
    answers: int = 0
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- source code


def solution_blocks(source: str, name: str = "<source>") -> list[tuple[int, int]]:
    """The (START line, END line) of each solution block, 1-based; unbalanced markers raise."""
    blocks, start = [], None
    for lineno, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped == START:
            if start is not None:
                raise StarterError(f"{name}:{lineno}: START marker inside an open block "
                                   f"(opened at line {start})")
            start = lineno
        elif stripped == END:
            if start is None:
                raise StarterError(f"{name}:{lineno}: END marker without a START")
            blocks.append((start, lineno))
            start = None
    if start is not None:
        raise StarterError(f"{name}:{start}: a START marker is never closed")
    return blocks


def strip_solutions(source: str, name: str = "<source>", stub=None) -> tuple[str, int]:
    """Replace the body of each solution block; returns (new source, number of blocks).

    stub(start_line, indent) gives the replacement body lines (without newlines); the default
    is `pass`. The marker lines and everything outside the blocks are kept as they are.
    """
    lines = source.splitlines(keepends=True)
    blocks = solution_blocks(source, name)
    for start, end in reversed(blocks):
        marker = lines[start - 1]
        indent = marker[: len(marker) - len(marker.lstrip())]
        body = stub(start, indent) if stub else [f"{indent}pass"]
        lines[start:end - 1] = [f"{line}\n" for line in body]
    return "".join(lines), len(blocks)


def _functions(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function, outer before inner."""
    found = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                    found.append((first, child.end_lineno, qualname))
                walk(child, qualname + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def task_of(module: str, function: str) -> tuple[str, str]:
    """(task, notebook) of a solution block in `module` (kit path) inside `function`."""
    for mod, pattern, task, notebook in STUB_TASKS:
        if mod == module and (pattern is None or re.search(pattern, function)):
            return task, notebook or TASK_NOTEBOOKS[task]
    raise StarterError(f"{module}: no task for the solution block in {function}; add a row "
                       f"(module, function pattern, task, notebook) to STUB_TASKS in "
                       f"workbook/starter.py")


def stub_module(source: str, module: str) -> tuple[str, list[Stub]]:
    """The module with each solution block replaced by a NotImplementedError naming its task."""
    try:
        functions = _functions(ast.parse(source, module))
    except SyntaxError as err:
        raise StarterError(f"{module}:{err.lineno}: not valid Python: {err.msg}") from None
    stubs: dict[int, Stub] = {}
    for start, _ in solution_blocks(source, module):
        around = [name for first, last, name in functions if first < start <= last]
        if not around:
            raise StarterError(f"{module}:{start}: a solution block outside any function: the "
                               f"kit could not import it once stubbed; move it into a function")
        function = around[-1]
        task, notebook = task_of(module, function)
        stubs[start] = Stub(module, start, function, task, notebook)

    def stub(start, indent):
        return [f"{indent}raise NotImplementedError({stubs[start].message!r})"]

    text, _ = strip_solutions(source, module, stub)
    try:
        compile(text, module, "exec")
    except SyntaxError as err:
        raise StarterError(f"{module}:{err.lineno}: the stubbed module is not valid Python "
                           f"({err.msg})") from None
    return text, list(stubs.values())


# --------------------------------------------------------------------------- notebooks


def _notebook_task(notebook: str) -> str:
    for task, nb in TASK_NOTEBOOKS.items():
        if nb == notebook:
            return task
    return Path(notebook).stem


def strip_notebook(nb, notebook: str, kit: Kit | None = None) -> tuple[int, int]:
    """Turn a solved notebook (an nbformat node, changed in place) into the student's.

    Clears outputs and execution counts; in `solution` code cells replaces the code between
    the markers (a tagged cell without markers is an error), in `inline-answer` markdown cells
    everything after "**Your answer:**". Returns (solution cells, answers) replaced.
    """
    cells = answers = 0
    message = f"{_notebook_task(notebook)}: write the code of this cell (see {notebook})"
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        where = f"{notebook}: cell {index} (id {cell.get('id', '?')})"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            has_markers = any(line.strip() == START for line in cell.source.splitlines())
            if SOLUTION_TAG in tags:
                if not has_markers:
                    raise StarterError(f"{where}: tagged `{SOLUTION_TAG}` but has no "
                                       f"START/END markers around the code to remove")
                cell.source, _ = strip_solutions(
                    cell.source, where,
                    lambda start, indent: [f"{indent}raise NotImplementedError({message!r})"])
                cells += 1
            elif has_markers and kit is not None:
                kit.warnings.append(f"{where}: has solution markers but no `{SOLUTION_TAG}` tag: "
                                    f"kept as it is")
        elif cell.cell_type == "markdown":
            if ANSWER_TAG in tags:
                at = cell.source.find(ANSWER_PROMPT)
                if at < 0:
                    raise StarterError(f"{where}: tagged `{ANSWER_TAG}` but has no "
                                       f"{ANSWER_PROMPT!r} to put the answer after")
                cell.source = cell.source[:at] + ANSWER_STUB
                answers += 1
            elif ANSWER_PROMPT in cell.source and kit is not None:
                kit.warnings.append(f"{where}: an inline answer without the `{ANSWER_TAG}` tag: "
                                    f"kept as it is")
    return cells, answers


# --------------------------------------------------------------------------- the kit


def _copy_tree(src: Path, dst: Path, skip=lambda path: False) -> None:
    def ignore(folder, names):
        return set(_BUILD_JUNK(folder, names)) | {n for n in names if skip(Path(folder) / n)}
    shutil.copytree(src, dst, ignore=ignore)


def _imports_maintainer_tool(source: str) -> str | None:
    tools = {f"workbook.{Path(t).stem}" for t in MAINTAINER_TOOLS}
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name in tools or any(name.startswith(t + ".") for t in tools):
                return name
    return None


def _readme_tasks(kit: Kit, root: Path) -> str:
    rows = ["| task | notebook | what you write |", "|---|---|---|"]
    for task, notebook in TASK_NOTEBOOKS.items():
        stubs = [s for s in kit.stubs if s.task == task]
        if not stubs and not (root / notebook).exists():
            continue  # a task still to come
        by_module: dict[str, list[str]] = {}
        for stub in stubs:
            names = by_module.setdefault(stub.module, [])
            if stub.function not in names:
                names.append(stub.function)
        code = "; ".join(f"`{m}`: {', '.join(f'`{f}`' for f in fs)}" for m, fs in by_module.items())
        notebooks = sorted({s.notebook for s in stubs} | {notebook})
        rows.append(f"| `{task}` | {', '.join(notebooks)} | {code or 'the notebook cells only'} |")
    return "\n".join(rows)


def build_kit(repo: Path, root: Path) -> Kit:
    """Write the kit into the (empty) folder root."""
    kit = Kit(dest=root)
    # cs231n/: every solution block stubbed
    _copy_tree(repo / "cs231n", root / "cs231n")
    for py in sorted((root / "cs231n").rglob("*.py")):
        module = py.relative_to(root).as_posix()
        text, stubs = stub_module(py.read_text(), module)
        py.write_text(text)
        kit.stubs += stubs
    for other in (root / "cs231n").rglob("*.pyx"):
        if solution_blocks(other.read_text(), str(other)):
            raise StarterError(f"{other.relative_to(root)}: solution markers in a Cython file are "
                               f"not supported by the kit builder")
    # workbook/: what the notebooks call, not the maintainer tools
    _copy_tree(repo / "workbook", root / "workbook",
               skip=lambda p: p.parent == repo / "workbook" and p.name in MAINTAINER_TOOLS)
    # datasets/: the scripts and the embedded bundle, never downloaded data
    _copy_tree(repo / "datasets", root / "datasets",
               skip=lambda p: p.parent == repo / "datasets" and not (
                   p.name == "mini" or p.suffix in (".md", ".sh")))
    # tests/: the course tests, not the tooling tests
    _copy_tree(repo / "tests", root / "tests",
               skip=lambda p: p.parent == repo / "tests" and p.name in TOOLING_TESTS)
    for test in (root / "tests").rglob("*.py"):
        tool = _imports_maintainer_tool(test.read_text())
        if tool:
            raise StarterError(f"{test.relative_to(root)} imports {tool}, which is not in the kit: "
                               f"add the file to TOOLING_TESTS in workbook/starter.py")
    for name in COPIED_FILES:
        shutil.copy2(repo / name, root / name)
    # notebooks
    import nbformat

    for folder in sorted(repo.glob("assignment*")):
        if folder.is_dir():
            _copy_tree(folder, root / folder.name)
    for path in sorted(root.glob("assignment*/*.ipynb")):
        notebook = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        cells, answers = strip_notebook(nb, notebook, kit)
        kit.solution_cells += cells
        kit.answers += answers
        nbformat.write(nb, path)
    # the kit's own Makefile and README
    shutil.copy2(KIT_TEMPLATES / "Makefile", root / "Makefile")
    readme = (KIT_TEMPLATES / "README.md").read_text()
    (root / "README.md").write_text(readme.replace("{{TASKS}}", _readme_tasks(kit, root)))
    return kit


def _check_dest(dest: Path, repo: Path, force: bool) -> None:
    if dest == repo or repo.is_relative_to(dest):
        raise StarterError(f"{dest}: would replace the workbook itself; choose another folder")
    for name in ["cs231n", "workbook", "datasets", "tests", *COPIED_FILES] + \
            [p.name for p in repo.glob("assignment*")]:
        if dest.is_relative_to(repo / name):
            raise StarterError(f"{dest}: inside {name}/, which the kit is copied from; "
                               f"choose a folder outside it (default: {DEFAULT_DEST})")
    if dest.exists():
        if not dest.is_dir():
            raise StarterError(f"{dest} exists and is not a folder")
        if any(dest.iterdir()) and not force:
            raise StarterError(f"{dest} is not empty; pass --force (make starter FORCE=1) to "
                               f"replace it")


def make_starter(dest: Path, force: bool = False, repo: Path = REPO_ROOT) -> Kit:
    """Build the kit into dest, atomically: in a temporary folder beside it, renamed at the end.

    A non-empty dest is refused unless force; on any error the temporary folder is removed and
    dest is left as it was.
    """
    dest, repo = Path(os.path.abspath(dest)), repo.resolve()
    _check_dest(dest, repo, force)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    old = None
    try:
        kit = build_kit(repo, tmp)
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            dest.rename(old / dest.name)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:                       # put the previous kit back
            if (old / dest.name).exists() and not dest.exists():
                (old / dest.name).rename(dest)
            if not (old / dest.name).exists():
                old.rmdir()
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    kit.dest = dest
    return kit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook.starter",
        description="Build the student starter kit (solutions replaced by stubs) into DEST.")
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST,
                        help=f"the kit's folder (default: {DEFAULT_DEST})")
    parser.add_argument("--force", action="store_true", help="replace a non-empty DEST")
    args = parser.parse_args(argv)
    try:
        kit = make_starter(args.dest, force=args.force)
    except StarterError as err:
        print(f"starter: {err}", file=sys.stderr)
        return 1
    for warning in kit.warnings:
        print(f"starter: warning: {warning}", file=sys.stderr)
    tasks = sorted({s.task for s in kit.stubs}, key=list(TASK_NOTEBOOKS).index)
    print(f"starter kit in {args.dest}: {len(kit.stubs)} solution blocks stubbed "
          f"({len(tasks)} tasks: {' '.join(tasks)}), {kit.solution_cells} notebook cells and "
          f"{kit.answers} inline answers emptied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
