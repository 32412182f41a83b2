"""Safe long runs: atomic writes, output-folder checks, and clean stops on SIGINT/SIGTERM.

Long computations (sweeps, ``phasekit reproduce``) save each finished piece as soon as it is
done, with :func:`atomic_write` (a temporary file in the same folder, then ``os.replace``), so a
file on disk is always either absent or complete. An interrupted run raises
:class:`RunInterrupted` (a :class:`KeyboardInterrupt`) after saving what had finished; the same
call with ``resume=True`` then computes only what is missing.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import uuid

from .._errors import InvalidParameterError, RunInterrupted

__all__ = ["RunInterrupted", "atomic_write", "check_output_dir", "sigterm_as_interrupt"]


def _temp_next_to(path):
    """A new empty ``.<name>.<random>.tmp`` beside ``path`` (same file system, so ``os.replace`` is
    atomic), created with the usual permissions (0o666 less the umask, like ``open``)."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


@contextlib.contextmanager
def atomic_write(path, mode="w", **kw):
    """Open a temporary file next to ``path`` for writing; on success it replaces ``path``.

    Readers never see a half-written file, also when the writer is killed mid-write (then the
    temporary file is removed, or, after SIGKILL, left as ``.<name>.*.tmp``).
    """
    tmp, fd = _temp_next_to(path)
    try:
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_save(path, save):
    """Call ``save(tmp_path)`` (a writer taking a path, e.g. ``SweepResult.to_csv``) and move
    the file into place with ``os.replace``; return ``path``."""
    path = os.fspath(path)
    tmp, fd = _temp_next_to(path)
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def check_output_dir(path, what="output folder"):
    """Raise :class:`~phasekit.InvalidParameterError` unless ``path`` is, or can be created as, a
    writable folder. Creates nothing."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise InvalidParameterError(f"the {what} {path!r} is an existing file, not a folder")
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise InvalidParameterError(f"cannot create the {what} {path!r}: {probe!r} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidParameterError(f"the {what} {path!r} is not writable ({probe!r} is read-only)")
    return path


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM (sent by batch schedulers and ``kill``) raises
    :class:`KeyboardInterrupt` like Ctrl-C does, so long runs save their finished work; the
    previous handler is restored afterwards. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def ignore_sigint():
    """Process-pool initializer: workers leave Ctrl-C to the parent (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
