import os
from pathlib import Path

import numpy as np
import pytest

FULL_DATA = os.environ.get("CS231N_DATA")
needs_full_data = pytest.mark.skipif(
    not (FULL_DATA and (Path(FULL_DATA) / "cifar-10-batches-py").is_dir()),
    reason="set CS231N_DATA to the full data to run this test")


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
