"""Small C kernels, compiled at first use and loaded with ctypes.

rnnkit installs without a compiler, so nothing here is built at install time.
The first call that wants a kernel compiles its C source with the machine's C
compiler (``$CC``, else ``cc`` or ``gcc``) into a per-user cache, keyed by the
source, the flags, the compiler and the CPU, and later processes load the
cached library. When anything fails (no compiler, a failed build, a library
that does not load) :func:`load` returns None with the reason, the caller
keeps its eager PyTorch path, and the reason is logged once. Setting
``RNNKIT_NATIVE=0`` turns the kernels off.

The kernels use OpenMP. torch's CPU wheels ship ``libgomp.so.1`` under that
soname, so the compiled library binds to the runtime torch already loaded and
shares its threads instead of starting a second pool.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

FLAGS = ("-O3", "-march=native", "-ffast-math", "-fopenmp", "-fPIC")
"""Compile flags. -ffast-math lets gcc call glibc's vectorised expf (libmvec); -march=native
is safe because the cache key includes the CPU's flags."""
LINK_FLAGS = ("-shared", "-fopenmp")
"""Link flags, without -ffast-math: linked with it, gcc (before 13) adds crtfastmath.o, whose
constructor sets flush-to-zero and denormals-are-zero for the whole process when the library
loads: every float in the user's program, numpy's and Python's too, would then lose its
subnormals (tests/nn/test_minscan.py checks that they survive)."""

SOURCES = Path(__file__).resolve().parent / "kernels"


def cache_folder() -> Path:
    """``$RNNKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/rnnkit``, else ``~/.cache/rnnkit``."""
    if os.environ.get("RNNKIT_CACHE_DIR"):
        return Path(os.environ["RNNKIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rnnkit"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor()
    return next((line for line in text.splitlines() if line.startswith("flags")), "")


def _build(source: Path, compiler: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staged = tempfile.mkstemp(dir=target.parent, suffix=".so.tmp")
    os.close(handle)
    objects = staged + ".o"
    try:
        for command in (
            [compiler, *FLAGS, "-c", str(source), "-o", objects],
            [compiler, *LINK_FLAGS, objects, "-o", staged, "-lm"],
        ):
            result = subprocess.run(command, capture_output=True, text=True, timeout=300)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no message"])[-1]
                raise RuntimeError(f"{Path(compiler).name} failed on {source.name}: {last}")
        os.replace(staged, target)  # whole or not at all: a parallel process may load it
    finally:
        for leftover in (staged, objects):
            if os.path.exists(leftover):
                os.unlink(leftover)


@functools.lru_cache(maxsize=None)
def load(name: str) -> tuple[ctypes.CDLL | None, str]:
    """``(library, how)`` for ``kernels/<name>.c``, or ``(None, why not)``; built once per
    source, compiler and CPU, then cached."""
    if os.environ.get("RNNKIT_NATIVE", "1") == "0":
        return None, "RNNKIT_NATIVE=0 turned the compiled kernels off"
    if platform.system() != "Linux":
        return None, f"compiled kernels are built on Linux only (this is {platform.system()})"
    compiler = _compiler()
    if compiler is None:
        why = "no C compiler found ($CC, cc or gcc)"
        logger.info("rnnkit: %s kernel not built: %s; the eager path runs", name, why)
        return None, why
    source = SOURCES / f"{name}.c"
    key = hashlib.sha256()
    for part in (source.read_bytes(), " ".join(FLAGS + LINK_FLAGS).encode(), compiler.encode()):
        key.update(part)
    key.update(_cpu_flags().encode())
    target = cache_folder() / "kernels" / f"{name}-{key.hexdigest()[:16]}.so"
    try:
        if not target.exists():
            _build(source, compiler, target)
        return ctypes.CDLL(str(target)), f"compiled {name} kernel ({target.name})"
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        why = f"building the {name} kernel failed: {error}"
        logger.warning("rnnkit: %s; the eager path runs instead", why)
        return None, why
