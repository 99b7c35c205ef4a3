"""Documents' dates as days: what the events stage groups by and the time stage bins by."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["parse_dates"]


def parse_dates(values: Sequence[str], dayfirst: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """Days (``datetime64[D]``, NaT where there is none) of date strings in any common format, and counts:
    ``parsed``, ``missing`` (empty), ``unparseable`` with a few ``examples``. Each distinct string is parsed once."""
    values = ["" if v is None else str(v).strip() for v in values]
    distinct = sorted(set(values) - {""})
    day_of: dict[str, np.datetime64] = {}
    for value in distinct:
        try:
            stamp = pd.to_datetime(value, dayfirst=dayfirst)  # the date as written, in its own time zone
            # a year before 1 or past 9999 ("-1" is read as such) has no Python date: unparseable, like any other
            day = np.datetime64("NaT", "D") if pd.isna(stamp) else np.datetime64(stamp.date(), "D")
        except (ValueError, TypeError, OverflowError, NotImplementedError):
            day = np.datetime64("NaT", "D")
        day_of[value] = day
    days = np.array([day_of.get(v, np.datetime64("NaT", "D")) for v in values], dtype="datetime64[D]")
    unparseable = [v for v in distinct if np.isnat(day_of[v])]
    bad = set(unparseable)
    return days, {"parsed": int((~np.isnat(days)).sum()), "missing": int(sum(v == "" for v in values)),
                  "unparseable": int(sum(v in bad for v in values)), "examples": [v[:40] for v in unparseable[:5]]}
