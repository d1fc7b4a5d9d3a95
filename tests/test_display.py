import pytest

from workbook.display import show_source


def _sample(x):
    return x + 1


def test_show_source_prints_the_code_outside_ipython(capsys):
    show_source(_sample)
    out = capsys.readouterr().out
    assert out.startswith("# tests.test_display._sample") or "._sample" in out.splitlines()[0]
    assert "return x + 1" in out


def test_show_source_rejects_values():
    with pytest.raises(TypeError, match="functions and classes"):
        show_source(3)
