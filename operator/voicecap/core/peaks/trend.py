"""A vertical's weekly growth, learned from the weeks its forecast reads (forecast.trend:
Weekly): the Theil-Sen slope of ln(the week's largest slot) over the weeks' ages, the median of
every pairwise slope, so one spike week or one quiet holiday moves it little (it breaks down only
past ~29 % of the weeks). Bounded to MAX_TREND a week either way and asked of at least
MIN_TREND_WEEKS weeks: a forecast extrapolates the weeks it has, it does not believe a wild
slope.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from itertools import combinations

MAX_TREND = 0.1  # at most 10 % a week, up or down
MIN_TREND_WEEKS = 4


def weekly_growth(weeks: Sequence[tuple[int, float]]) -> float:
    """The weekly growth of (age in weeks, value) pairs, newest first; 0 with too few weeks."""
    points = [(age, math.log(value)) for age, value in weeks if value > 0]
    if len(points) < MIN_TREND_WEEKS:
        return 0.0
    slopes = [
        (newer - older) / (older_age - newer_age)
        for (newer_age, newer), (older_age, older) in combinations(points, 2)
        if older_age != newer_age
    ]
    growth = math.exp(statistics.median(slopes)) - 1
    return min(max(growth, -MAX_TREND), MAX_TREND)
