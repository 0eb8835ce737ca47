"""The Procfile's worker: `python -m config.worker` runs django-q2's cluster (`manage.py
qcluster`) and stops it cleanly, in about a second, on SIGINT or SIGTERM.

Process managers (honcho, foreman) signal a process's whole process group. django-q2's sentinel
and worker processes die on SIGTERM at once, and its main process then waits forever for the
dead sentinel to acknowledge the stop, until the manager kills everything with SIGKILL (after
5 s with honcho). So the cluster runs in a process group of its own, and only its main process
is told to stop: it stops its pusher, workers and monitor in order.
"""

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = "--cluster"


def _die_with_parent() -> None:
    """Linux: the cluster gets SIGTERM if this wrapper is killed (SIGKILL), never orphaned."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def supervise(argv: list[str]) -> int:
    cluster = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "config.worker", CLUSTER, *argv],
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        if not stopping:
            stopping = True
            cluster.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = cluster.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


def run_cluster(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "qcluster", *argv])
    # The cluster now runs in its sentinel process, which this one joins at exit (until a
    # signal stops it). Keep the loaded app out of the final garbage collection: tearing it
    # down took about 0.6 s of every stop.
    gc.freeze()


if __name__ == "__main__":
    if sys.argv[1:2] == [CLUSTER]:
        run_cluster(sys.argv[2:])
    else:
        sys.exit(supervise(sys.argv[1:]))
