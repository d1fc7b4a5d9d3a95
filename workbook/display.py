"""Show the package's code inside a notebook, next to where it is used."""
from __future__ import annotations

import inspect


def show_source(*objects) -> None:
    """Display the source of functions or classes, syntax-highlighted.

    The framework notebooks call it so that a reader sees the code a cell runs, e.g.
    `show_source(three_layer_convnet)`; the package stays the single place it is written.
    Outside IPython it prints the plain source.
    """
    for obj in objects:
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
            raise TypeError(f"show_source shows functions and classes, got {type(obj).__name__}")
        module = inspect.getmodule(obj)
        header = f"# {module.__name__ if module else '?'}.{obj.__qualname__}"
        code = f"{header}\n{inspect.getsource(obj)}"
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
