"""The NumPy blockwise path: large arrays evaluated in cache-sized blocks, shared among threads.

NumPy evaluates an expression one operation at a time over whole arrays, so a loss with five
temporaries streams five arrays through memory. Evaluated block by block, the temporaries
stay in cache; the arithmetic (the loss's own array-API code) is the same. Other libraries
fuse (JAX) or schedule (Dask) on their own and never take this path.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .namespace import Array, is_numpy, numel, silent

__all__ = ["BLOCK", "MatmulSum", "blockable", "blockable_layout", "map_blocks"]

#: Elements per block, counted in 4-byte elements (1 MiB; wider dtypes get the same bytes):
#: small enough that a block's temporaries stay in the CPU's caches, large enough that
#: Python's cost per block (a dozen NumPy calls, which also hold the GIL the other threads
#: wait for) is small beside the arithmetic. Measured on 2 cores (bench_losses.py): blocks
#: of 2^16 elements ran cross_entropy 1.7x slower.
BLOCK = 1 << 18


def blockable(xp: Any, *arrays: Array) -> bool:
    """Whether :func:`map_blocks` applies: large C-contiguous NumPy arrays of one shape."""
    first = arrays[0]
    return (
        is_numpy(xp)
        and numel(first) >= 2 * BLOCK
        and all(a.shape == first.shape and blockable_layout(a) for a in arrays)
    )


def blockable_layout(a: Array) -> bool:
    """A C-contiguous NumPy array (its blocks are then plain slices)."""
    return getattr(a, "flags", None) is not None and bool(a.flags.c_contiguous)


def _threads() -> int:
    """Worker threads of the blockwise path: ``LOSSKIT_NUM_THREADS``, else the usable cores."""
    env = os.environ.get("LOSSKIT_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


class _Pool:
    """One lazily created thread pool, grown when more workers are asked for. It holds no
    state that changes what a loss computes: results come back in block order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def get(self, workers: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._executor._max_workers < workers:
                self._executor = ThreadPoolExecutor(max_workers=workers,
                                                    thread_name_prefix="losskit")
            return self._executor


_POOL = _Pool()


def map_blocks(
    fn: Callable[[int, tuple[Array, ...]], Any], *arrays: Array, rows: bool = False
) -> list[Any]:
    """``[fn(start, blocks) ...]`` over aligned views of ``arrays`` of about ``BLOCK``
    elements, in order (see :func:`blockable`): flat views, or with ``rows=True`` runs of
    whole rows along axis 0 (``start`` is then the first row).

    NumPy releases the GIL inside its loops, so the blocks are shared among a few threads,
    each taking a contiguous run of them; the results come back in block order, so sums
    of them do not depend on the thread count.
    """
    # BLOCK is counted in 4-byte elements: float64 blocks hold half as many (same bytes)
    block = max(1, BLOCK * 4 // max(4, getattr(arrays[0], "itemsize", 4)))
    if rows:
        views = list(arrays)
        step = max(1, block // max(1, math.prod(arrays[0].shape[1:])))
    else:
        views = [a.reshape(-1) for a in arrays]
        step = block
    starts = list(range(0, views[0].shape[0], step))

    def run(chunk: list[int]) -> list[Any]:
        with silent():  # NumPy's error state is per thread
            return [fn(i, tuple(v[i : i + step] for v in views)) for i in chunk]

    workers = min(_threads(), len(starts))
    if workers <= 1:
        return run(starts)
    pool = _POOL.get(workers)
    per = -(-len(starts) // workers)
    futures = [pool.submit(run, starts[k : k + per]) for k in range(0, len(starts), per)]
    return [r for f in futures for r in f.result()]


class MatmulSum:
    """``Σ a_i @ b_i`` over calls of :meth:`add` (a weight gradient summed over chunks of
    rows). On NumPy the sum is accumulated in place, a few rows of it at a time through a
    cache-sized scratch array, so a large sum costs no fresh memory per chunk (NumPy has no
    ``gemm`` with ``beta = 1``; SciPy's runs its own BLAS thread pool, which spins against
    NumPy's: measured 2x slower together). Elsewhere it is a functional sum."""

    def __init__(self, xp: Any, scratch: int = 0) -> None:
        """``scratch``: elements the caller allows the scratch array (at least ``SCRATCH``;
        larger blocks keep BLAS efficient when the sum's rows are wide)."""
        self.xp = xp
        self.total: Array | None = None
        self._scratch: Array | None = None
        self._elements = max(SCRATCH, scratch)

    def add(self, a: Array, b: Array) -> None:
        xp = self.xp
        if not is_numpy(xp):
            product = xp.matmul(a, b)
            self.total = product if self.total is None else self.total + product
            return
        import numpy as np

        if self.total is None:
            self.total = np.matmul(a, b)
            return
        total = self.total
        step = max(1, self._elements // max(1, b.shape[-1]))
        if self._scratch is None:
            self._scratch = np.empty((min(step, total.shape[0]), total.shape[1]), total.dtype)
        for s in range(0, total.shape[0], step):
            e = min(s + step, total.shape[0])
            part = np.matmul(a[s:e], b, out=self._scratch[: e - s])
            np.add(total[s:e], part, out=total[s:e])


#: elements of MatmulSum's scratch: a few rows of the sum per BLAS call (4 MiB in float32;
#: measured fastest on 2 cores between 2^14 and 2^25 for a (32000, 256) sum)
SCRATCH = 1 << 20
