"""piazza.processes.ProcessLock: one holder across processes, and a holder
killed with SIGKILL does not keep it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from conftest import ROOT

HOLD = """
import sys, time
from piazza.processes import ProcessLock
with ProcessLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""

TAKE = """
import sys
from piazza.processes import ProcessLock
with ProcessLock(sys.argv[1]):
    print("taken", flush=True)
"""


def _python(code: str, lock: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, lock],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_holder_killed_with_sigkill_does_not_keep_the_lock(tmp_path):
    lock = str(tmp_path / "comments.db.lock")
    holder = _python(HOLD, lock)
    try:
        assert holder.stdout.readline().strip() == "held"
        taker = _python(TAKE, lock)
        with contextlib.suppress(subprocess.TimeoutExpired):
            taker.wait(timeout=1)  # it waits, as it should, while the lock is held
        assert taker.poll() is None, "took a lock another process holds"
        os.kill(holder.pid, signal.SIGKILL)
        out, _ = taker.communicate(timeout=10)
        assert out.strip() == "taken"
    finally:
        holder.kill()
        holder.wait()


def test_threads_of_one_process_and_a_forked_child_take_turns(tmp_path):
    code = """
import os, sys, threading, time
from piazza.processes import ProcessLock
lock = ProcessLock(sys.argv[1])
inside = []
def work(tag):
    for _ in range(20):
        with lock:
            inside.append(tag)
            assert len(inside) == 1, inside
            time.sleep(0.001)
            inside.pop()
threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
pid = os.fork()
if pid == 0:
    with lock:  # the child's own lock and file, not the parent's
        os._exit(0)
_, status = os.waitpid(pid, 0)
print("ok" if status == 0 else "child failed")
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "x.lock")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "ok", done.stderr
