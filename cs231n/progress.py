"""One progress bar for every training loop of the package.

In JupyterLab it is a single widget (ipywidgets); a notebook executed without a frontend
(`make run`, nbval) stores that one widget output, never a line per iteration. In a terminal
it is a text bar on stderr; in a pipe or a log file, none. The loops print their own few
summary lines besides, with `say`.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable

from tqdm.std import TqdmWarning
from tqdm.std import tqdm as text_tqdm

__all__ = ["progress", "say"]


def _in_notebook_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab, nbclient, nbval)."""
    zmqshell = sys.modules.get("ipykernel.zmqshell")  # imported by every kernel, only there
    if zmqshell is None:
        return False
    return isinstance(sys.modules["IPython"].get_ipython(), zmqshell.ZMQInteractiveShell)


def _bar_class():
    """The tqdm class to draw with here, or None where a bar would only add noise.

    In a kernel: the ipywidgets bar, ONE widget that updates in place (what tqdm.auto
    picks there); under nbclient/nbval it leaves one display output, not a line per
    update. A kernel without ipywidgets gets no bar: tqdm's text fallback would write
    a stream output per update into the notebook (and warn "IProgress not found").
    Outside a kernel: the text bar on a terminal; none when stderr is a file or a pipe
    (CI logs, pytest), where every redraw would be a new line.
    """
    if _in_notebook_kernel():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TqdmWarning)
            from tqdm.notebook import IProgress
            from tqdm.notebook import tqdm as notebook_tqdm
        return notebook_tqdm if IProgress is not None else None
    return text_tqdm if sys.stderr.isatty() else None


def progress(iterable: Iterable | None = None, *, total: int | None = None,
             desc: str | None = None, disable: bool = False, **kwargs) -> text_tqdm:
    """A tqdm progress bar that is one widget in Jupyter and leaves no text in saved notebooks.

    Same arguments as ``tqdm``. Where no bar can be drawn cleanly (see _bar_class) it
    returns a disabled bar: iterating and ``update`` still work and print nothing.
    """
    cls = _bar_class()
    if disable or cls is None:
        return text_tqdm(iterable, total=total, desc=desc, disable=True)
    return cls(iterable, total=total, desc=desc, **kwargs)


def say(message: str) -> None:
    """Print a line without tearing a text progress bar (tqdm.write clears and redraws it)."""
    text_tqdm.write(message, file=sys.stdout)
