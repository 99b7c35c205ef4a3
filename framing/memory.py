"""This process's memory: resident, anonymous (without mapped files) and its peaks, and handing freed heap memory
back to the system. What ``run.json``'s ``memory_mb`` records per stage."""
from __future__ import annotations

import os
import platform
import sys
import threading

__all__ = ["AnonymousPeak", "anonymous_memory_mb", "peak_memory_mb", "release_free_memory", "resident_memory_mb"]


def resident_memory_mb() -> float | None:
    """This process's resident memory now (Linux; None elsewhere), including file pages it has mapped, such as
    the embedding cache's vectors."""
    try:
        with open("/proc/self/statm") as statm:
            return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 ** 2, 1)
    except (OSError, ValueError, IndexError):
        return None


def anonymous_memory_mb() -> float | None:
    """This process's resident anonymous memory now (Linux; None elsewhere): its heap and arrays, without the
    file pages it maps (the embedding cache's vectors, libraries), which the kernel can drop and read again."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory so far of this process. Worker processes are not counted: the kernel's figure for
    them includes what a forked child shares with its parent, so it would say the parent's size again."""
    import resource

    scale = 1 / 1024 if platform.system() != "Darwin" else 1 / 1024 ** 2  # ru_maxrss: KiB on Linux, bytes on macOS
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1)
    # Linux updates its high-water mark lazily, so the memory resident now can be above it
    return {"process": max(peak, resident_memory_mb() or 0.0)}


def release_free_memory() -> None:
    """Hand the heap's freed memory back to the system (glibc's ``malloc_trim``; a no-op elsewhere).

    glibc keeps what a stage freed for later small allocations, but large arrays are mapped anew, so a stage's
    millions of short-lived Python objects (word lists, sets of groups) otherwise stay resident to the end of
    the run: 109 MB after repost detection at a million units. Dask's workers trim for the same reason.
    Arrow's memory pool is asked to do the same: after a million-unit table was written to Parquet it held about
    300 MB it had freed.
    """
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:  # Arrow's own allocator (mimalloc or jemalloc) keeps what it freed the same way
        pyarrow.default_memory_pool().release_unused()
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim if platform.system() == "Linux" else False
        except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


class AnonymousPeak:
    """The highest anonymous memory seen while a stage runs, sampled every 50 ms by a thread (the kernel keeps
    a high-water mark of all resident memory only, which counts the mapped vectors: 1.26 GB at a million units)."""

    def __init__(self) -> None:
        self.peak = anonymous_memory_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="framing-memory", daemon=True)
        if self.peak is not None:
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak or 0.0, anonymous_memory_mb() or 0.0)

    def stop(self) -> float | None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        now = anonymous_memory_mb()
        return None if self.peak is None else max(self.peak, now or 0.0)
