"""README figures: exported from full-data runs only, so the README always shows real results."""
from __future__ import annotations

from cs231n import config


def save_readme_figure(fig, name: str) -> bool:
    """Export a figure to figures/<name>.png for the README, from full-data runs only.

    Quick or mini-data runs leave figures/ alone so that the README always shows
    real results. Returns whether the file was written.
    """
    if config.QUICK or "mini" in config.sources_used.values():
        return False
    config.FIGURES_DIR.mkdir(exist_ok=True)
    fig.savefig(config.FIGURES_DIR / f"{name}.png", dpi=80, bbox_inches="tight")
    return True
