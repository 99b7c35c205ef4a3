"""Memory a run gives back between stages."""
import platform

import pytest

from framing.memory import anonymous_memory_mb, release_free_memory


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_freed_heap_memory_is_handed_back_between_stages():
    # glibc keeps freed blocks below its mmap threshold in the heap; one block still in use above them keeps the
    # heap from shrinking, so without a trim the freed pages stay resident
    before = anonymous_memory_mb()
    blocks = [bytearray(16_000) for _ in range(20_000)]  # ~320 MB in heap blocks, each written
    keep = blocks[-1]
    del blocks
    freed = anonymous_memory_mb()
    release_free_memory()
    after = anonymous_memory_mb()
    assert freed - before > 200  # the freed blocks were still resident
    assert after - before < (freed - before) / 4
    assert len(keep) == 16_000
