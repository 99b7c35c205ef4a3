"""What every step that partitions units shares: the label of a unit in no framing, and min_cluster_size on a
subsample."""
from __future__ import annotations

__all__ = ["UNASSIGNED", "scaled_count"]

UNASSIGNED = -1


def scaled_count(size: int, sample: int, n: int) -> int:
    """A count of corpus units as a count of sample units, never below min(size, 5): HDBSCAN below 5 is noise."""
    if sample >= n:
        return size
    return max(min(size, 5), round(size * sample / n))
