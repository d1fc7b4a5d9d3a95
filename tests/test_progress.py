import io
import sys
import warnings

import pytest

import cs231n.progress as progress_module
from cs231n.progress import progress


def test_outside_a_terminal_or_notebook_there_is_no_bar(capsys):
    assert progress_module._bar_class() is None              # pytest: stderr is not a terminal
    bar = progress(range(3), desc="x")
    assert list(bar) == [0, 1, 2] and bar.disable
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_on_a_terminal_the_text_bar_is_used(monkeypatch):
    monkeypatch.setattr(sys, "stderr", type("Tty", (io.StringIO,), {"isatty": lambda s: True})())
    assert progress_module._bar_class() is progress_module.text_tqdm


def test_in_a_notebook_the_bar_is_one_widget_or_none(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(progress_module, "_in_notebook_kernel", lambda: True)
    assert progress_module._bar_class().__module__ == "tqdm.notebook"
    monkeypatch.setitem(sys.modules, "ipywidgets", None)   # a kernel without ipywidgets
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # no "IProgress not found" warning
        assert progress_module._bar_class() is None
        assert progress(range(2), total=2).disable
