"""Make the student starter kit from the solution source: `make starter` (or python -m workbook.starter DIR).

Copies the workbook to DIR with every block between the official markers
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
replaced by `pass` and a TODO, and with the notebooks' outputs cleared. Nothing
else changes, so a student's finished file drops back into the full workbook.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from cs231n import config

START = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
END = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
COPIED = ["README.md", "requirements.txt", "pyproject.toml", "setup.py", "Makefile", "datasets",
          "cs231n", "tests", "bench", "assignment1", "assignment2", "assignment3"]


def strip_solutions(source: str, name: str = "<source>") -> tuple[str, int]:
    """Replace each solution block with `pass`; returns (new source, number of blocks)."""
    out, inside, blocks = [], False, 0
    for lineno, line in enumerate(source.splitlines(keepends=True), 1):
        stripped = line.strip()
        if stripped == START:
            if inside:
                raise ValueError(f"{name}:{lineno}: START marker inside an open block")
            inside, blocks = True, blocks + 1
            indent = line[: len(line) - len(line.lstrip())]
            out += [line, f"{indent}# TODO: your code here.\n", f"{indent}pass\n"]
        elif stripped == END:
            if not inside:
                raise ValueError(f"{name}:{lineno}: END marker without a START")
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{name}: a START marker is never closed")
    return "".join(out), blocks


def clear_outputs(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)


def make_starter(dest: Path) -> int:
    """Write the starter kit to dest; returns the number of solution blocks removed."""
    if dest.exists():
        shutil.rmtree(dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.c", ".ipynb_checkpoints")
    for name in COPIED:
        src = config.REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / name)
    total = 0
    for py in sorted((dest / "cs231n").rglob("*.py")) + sorted((dest / "cs231n").rglob("*.pyx")):
        if py.name == "starter.py":
            continue
        text, blocks = strip_solutions(py.read_text(), str(py))
        py.write_text(text)
        total += blocks
    for nb in dest.glob("assignment*/*.ipynb"):
        clear_outputs(nb)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    blocks = make_starter(args.dest.resolve())
    print(f"starter kit in {args.dest}: {blocks} solution blocks replaced by TODOs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
