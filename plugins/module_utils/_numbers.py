# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module option that must be a number within bounds (private module_utils of seed.fleet).

One check for every module that takes seconds, counts or thresholds: the value is converted
(``int`` or ``float``), must be finite, and must lie within its bounds; the error names the
option, the bounds and the value given, so that bad input stops before anything is sent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math


class NumberError(ValueError):
    """A number option out of its bounds; ``str()`` is ``"<option> <reason>"``."""

    def __init__(self, option, reason):
        super(NumberError, self).__init__("%s %s" % (option, reason))
        self.option = option
        self.reason = reason


def bounded(option, value, kind, low, high=None, low_inclusive=True):
    """``value`` as ``kind``, finite, ``>= low`` (``> low`` without ``low_inclusive``) and ``<= high``."""
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise NumberError(option, "must be a number, got %r" % (value,))
    if isinstance(number, float) and not math.isfinite(number):
        raise NumberError(option, "must be a finite number, got %s" % (value,))
    too_low = number < low if low_inclusive else number <= low
    if too_low or (high is not None and number > high):
        upper = " and <= %s" % high if high is not None else ""
        raise NumberError(option, "must be %s %s%s, got %s" % (">=" if low_inclusive else ">", low, upper, value))
    return number
