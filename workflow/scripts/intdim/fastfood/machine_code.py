"""Numba's cache of machine code, checked against the modules compiled into it.

Numba checks a cached function against its own file only. A module whose functions have
another module's code compiled in (``cpu.py`` and ``fixed_order_gemm.py`` call ``simd.py``'s
LLVM intrinsics) would go on loading the old machine code after a checkout changed only that
other module, and compute with the code it had before.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba


def drop_stale_machine_code(namespace: dict, compiled_in: tuple[Path, ...]) -> None:
    """Empty the cache index of the jitted functions defined in ``namespace`` (a module's
    ``globals()``) when a file in ``compiled_in`` has changed since they were cached; a digest
    of those files is kept beside the cache."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in compiled_in)).hexdigest()
    jitted = [
        f for f in namespace.values()
        if isinstance(f, numba.core.dispatcher.Dispatcher)
        and f.py_func.__module__ == namespace["__name__"]
    ]  # fmt: skip
    if not jitted:  # NUMBA_DISABLE_JIT: plain Python functions, nothing cached
        return
    stem = Path(namespace["__file__"]).stem
    stamp = Path(jitted[0]._cache.cache_path) / f"{stem}.compiled_in.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for function in jitted:
            function._cache.flush()
        stamp.write_text(digest)
    except OSError:  # a cache Numba cannot write either: every process compiles afresh
        pass
