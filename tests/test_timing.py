import time

import pytest

from workbook.timing import gflops, time_function


def test_time_function_measures_sleep():
    t = time_function(time.sleep, 0.02, repeat=2)
    assert 0.019 < t < 0.5


def test_bad_repeat():
    with pytest.raises(ValueError, match="repeat"):
        time_function(print, repeat=0)


def test_gflops():
    assert gflops(2e9, 0.5) == 4.0


def test_timed_returns_result():
    from workbook.timing import timed
    result, seconds = timed(sum, [1, 2, 3])
    assert result == 6 and seconds >= 0
