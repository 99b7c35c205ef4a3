"""Keep umap's and pynndescent's numba-compiled functions on disk, so a new process does not compile them again.

Both libraries mark only some of their jitted functions ``cache=True``; the rest are compiled afresh in every
process, which costs each run several seconds before UMAP does any work (bench/numba_cache.py measures it).
``Dispatcher.enable_caching`` is what ``@numba.njit(cache=True)`` itself calls; we call it for the remaining
dispatchers of those two libraries, before any of them is compiled. Numba keys each cache entry by the source
file's path, size and modification time, so an upgrade of either library recompiles instead of reusing stale code.
Cache files go to numba's usual place (``__pycache__`` beside the library, or ``NUMBA_CACHE_DIR``).
"""
from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)

_LIBRARIES = ("umap", "pynndescent")
_done = False


def enable_numba_disk_cache() -> int:
    """Turn on numba's disk cache for umap's and pynndescent's jitted functions; returns how many were changed.

    Idempotent and cheap after the first call. Functions numba cannot cache (closures over dynamic globals) are
    compiled in memory as before.
    """
    global _done
    if _done:
        return 0
    import umap  # noqa: F401  imports every umap and pynndescent module that UMAP uses
    import umap.umap_  # noqa: F401
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    changed = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _LIBRARIES:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher) and isinstance(value._cache, NullCache) and not value.overloads:
                try:
                    value.enable_caching()
                    changed += 1
                except Exception as exc:  # numba refuses some functions (e.g. defined in an exec'd string)
                    log.debug("numba cache not enabled for %s.%s: %s", name, value.__name__, exc)
    _done = True
    log.debug("numba disk cache enabled for %d umap/pynndescent functions", changed)
    return changed
