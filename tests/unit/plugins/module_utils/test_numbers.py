# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_numbers: one bounded-number check for every module option that takes one."""
from __future__ import annotations

import pytest

from ansible_collections.seed.fleet.plugins.module_utils._numbers import NumberError, bounded


@pytest.mark.parametrize("value, kind, low, high, inclusive, expected", [
    ("5", int, 1, 10, True, 5),
    (1, int, 1, 10, True, 1),
    ("0.5", float, 0, 60, False, 0.5),
    (60, float, 0, 60, False, 60.0),
    (-1e300, float, -float("inf"), None, True, -1e300),
    (10 ** 12, int, 0, None, True, 10 ** 12),
])
def test_numbers_within_their_bounds(value, kind, low, high, inclusive, expected):
    got = bounded("opt", value, kind, low, high, inclusive)
    assert got == expected and isinstance(got, kind)


@pytest.mark.parametrize("value, kind, low, high, inclusive, reason", [
    ("ten", int, 1, 10, True, "must be a number, got 'ten'"),
    (None, float, 0, 1, True, "must be a number, got None"),
    ("1e999", int, 0, None, True, "must be a number, got '1e999'"),
    (float("nan"), float, 0, 1, True, "must be a finite number, got nan"),
    (float("inf"), float, -float("inf"), None, True, "must be a finite number, got inf"),
    (0, int, 1, 10, True, "must be >= 1 and <= 10, got 0"),
    (11, int, 1, 10, True, "must be >= 1 and <= 10, got 11"),
    (0, float, 0, 60, False, "must be > 0 and <= 60, got 0"),
    (-1, int, 0, None, True, "must be >= 0, got -1"),
])
def test_numbers_out_of_bounds_name_the_option_the_bounds_and_the_value(value, kind, low, high, inclusive, reason):
    with pytest.raises(NumberError) as err:
        bounded("deadline", value, kind, low, high, inclusive)
    assert err.value.option == "deadline" and err.value.reason == reason
    assert str(err.value) == "deadline " + reason
    assert isinstance(err.value, ValueError)
