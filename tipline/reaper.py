"""Stop an embedded service whose owner died without stopping it (kill -9, the OOM killer).

A context manager's cleanup never runs in a killed process, and both embedded services outlive
their owner by design: the broker runs in its own process group (a terminal's Ctrl-C must not
stop it under its clients), PostgreSQL daemonises. Left running, they hold the broker's port
and the data directory, and the next `make run` or benchmark fails on them. So each service
gets a reaper: a small process, started by the owner, that waits for the owner to die and then
signals the service. A clean stop ends the reaper first (``Reaper.cancel``).

    python -m tipline.reaper OWNER_PID SIGNAL (pid:N | file:POSTMASTER_PID_FILE)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_S = 0.5


class Reaper:
    """The running reaper of one service."""

    def __init__(self, target: str, sig: signal.Signals) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tipline.reaper", str(os.getpid()), sig.name, target],
            stdin=subprocess.DEVNULL,
            process_group=0,  # like the services: a terminal's Ctrl-C is for the owner
        )

    @classmethod
    def for_pid(cls, pid: int, sig: signal.Signals) -> Reaper:
        return cls(f"pid:{pid}", sig)

    @classmethod
    def for_pid_file(cls, path: Path, sig: signal.Signals) -> Reaper:
        """A service whose pid may change under the owner (PostgreSQL after a restart): the
        pid is read from its file when the owner dies."""
        return cls(f"file:{path}", sig)

    def cancel(self) -> None:
        """The owner stops the service itself: end the reaper first."""
        self._proc.terminate()
        self._proc.wait()


def _target_pid(target: str) -> int | None:
    kind, _, value = target.partition(":")
    if kind == "pid":
        return int(value)
    try:
        return int(Path(value).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # no pid file: the service is not running


def main(argv: list[str]) -> int:
    owner, sig, target = int(argv[0]), signal.Signals[argv[1]], argv[2]
    # The owner is our parent: when it dies we are re-parented, which no reused pid can fake.
    while os.getppid() == owner:
        time.sleep(POLL_S)
    pid = _target_pid(target)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.kill(pid, sig)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
