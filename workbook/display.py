"""Show the package's code inside a notebook, next to where it is used."""
from __future__ import annotations

import inspect

START = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"


def _is_rule(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) > 2 and set(stripped) == {"#"}


def without_todo_boxes(source: str) -> str:
    """The source without the boxed TODO prompts that stand right above the START markers.

    A prompt asks the student for the code between the markers; in the solved package that
    code follows it, so the notebooks show the code and its docstring, not the prompt.
    """
    lines = source.splitlines(keepends=True)
    keep = [True] * len(lines)
    for i, line in enumerate(lines):
        if line.strip() != START or i == 0 or not _is_rule(lines[i - 1]):
            continue
        top = i - 2
        while top >= 0 and lines[top].lstrip().startswith("#") and not _is_rule(lines[top]):
            top -= 1
        if top >= 0 and _is_rule(lines[top]) and any("TODO" in ln for ln in lines[top:i]):
            keep[top:i] = [False] * (i - top)
    return "".join(line for line, kept in zip(lines, keep, strict=True) if kept)


def show_source(*objects) -> None:
    """Display the source of functions or classes, syntax-highlighted.

    The framework notebooks call it so that a reader sees the code a cell runs, e.g.
    `show_source(three_layer_convnet)`; the package stays the single place it is written.
    The TODO prompts above the solution blocks are left out (`without_todo_boxes`).
    Outside IPython it prints the plain source.
    """
    for obj in objects:
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
            raise TypeError(f"show_source shows functions and classes, got {type(obj).__name__}")
        module = inspect.getmodule(obj)
        header = f"# {module.__name__ if module else '?'}.{obj.__qualname__}"
        code = f"{header}\n{without_todo_boxes(inspect.getsource(obj))}"
        try:
            from IPython import get_ipython
            from IPython.display import Markdown, display
        except ImportError:
            print(code)
            continue
        if get_ipython() is None:
            print(code)
        else:
            display(Markdown(f"```python\n{code}```"))
