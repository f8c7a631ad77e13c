"""What a snippet prints here and with Numba compiling for a generic x86-64 (no AVX: two float64
or four float32 lanes; no fused multiply-add, for which LLVM calls libm's exact fmaf), each in
a process of its own, the generic machine code in a cache of its own."""

import os
import subprocess
import sys


def here_and_generic(code: str, cache_dir) -> tuple[str, str]:
    def run(env: dict) -> str:
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip

    generic = {"NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": str(cache_dir)}
    return run(dict(os.environ)), run(os.environ | generic)
