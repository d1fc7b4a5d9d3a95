import pytest

from cs231n import config


@pytest.mark.parametrize("quick,sources,expected", [
    (True, {}, "quick"),
    (True, {"CIFAR-10": "full"}, "quick"),
    (False, {"CIFAR-10": "full"}, "full"),
    (False, {"CIFAR-10": "mini"}, "mini"),
    (False, {"CIFAR-10": "full", "MNIST": "mini"}, "mini"),
])
def test_scale_follows_quick_mode_and_the_data_in_use(monkeypatch, quick, sources, expected):
    monkeypatch.setattr(config, "QUICK", quick)
    monkeypatch.setattr(config, "sources_used", sources)
    assert config.scale() == expected
    assert config.by_scale(full=1, mini=2, quick=3) == {"full": 1, "mini": 2, "quick": 3}[expected]


def test_scale_before_any_data_is_an_error(monkeypatch):
    monkeypatch.setattr(config, "QUICK", False)
    monkeypatch.setattr(config, "sources_used", {})
    with pytest.raises(RuntimeError, match="load a dataset first"):
        config.by_scale(full=1, mini=2, quick=3)


def test_scale_is_announced_once(monkeypatch, capsys):
    monkeypatch.setattr(config, "QUICK", False)
    monkeypatch.setattr(config, "sources_used", {})
    monkeypatch.setattr(config, "_announced", set())
    monkeypatch.setattr(config, "_scale_said", None)
    config.announce("CIFAR-10", "mini", "CIFAR-10: mini")
    config.announce("CIFAR-10", "mini", "CIFAR-10: mini")
    out = capsys.readouterr().out
    assert out.count("scale: mini") == 1 and "make data" in out


def test_seeding_does_not_import_frameworks():
    import subprocess
    import sys

    code = ("import sys; from cs231n import config; config.seed_everything(0); "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
