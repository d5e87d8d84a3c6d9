"""thread_wake.py: CPython's GIL hand-off (issue 20). A thread blocked on a
threading.Event, or on a pipe read, is woken by the main thread, which then spins in
Python until the woken thread has appended to a list. On Linux the woken thread runs
within milliseconds; before the scheduler fix it starved for seconds. Prints one
"ok: ..." line per check and "ALL OK", or "FAIL: ..." and exits 1."""

import os
import sys
import threading
import time

ROUNDS = 10
LIMIT = 1.0  # seconds: a few 10 ms slices and GIL switch intervals, with room for load
GIVE_UP = 5.0


def spin_until(done, t0):
    while not done:
        if time.monotonic() - t0 > GIVE_UP:
            return None
    return time.monotonic() - t0


def event_round():
    ev = threading.Event()
    done = []
    t = threading.Thread(target=lambda: (ev.wait(), done.append(1)))
    t.start()
    time.sleep(0.02)
    t0 = time.monotonic()
    ev.set()
    dt = spin_until(done, t0)
    t.join()
    return dt


def pipe_round():
    r, w = os.pipe()
    done = []
    t = threading.Thread(target=lambda: (os.read(r, 1), done.append(1)))
    t.start()
    time.sleep(0.02)
    t0 = time.monotonic()
    os.write(w, b"x")
    dt = spin_until(done, t0)
    t.join()
    os.close(r)
    os.close(w)
    return dt


def check(name, round_fn):
    worst = 0.0
    for _ in range(ROUNDS):
        dt = round_fn()
        if dt is None:
            print(f"FAIL: a thread woken by {name} did not run within {GIVE_UP:.0f} s "
                  "while the main thread spun", flush=True)
            sys.exit(1)
        worst = max(worst, dt)
    if worst >= LIMIT:
        print(f"FAIL: a thread woken by {name} ran only after {worst * 1000:.0f} ms",
              flush=True)
        sys.exit(1)
    print(f"ok: a thread woken by {name} runs while the main thread spins "
          f"(worst of {ROUNDS}: {worst * 1000:.0f} ms)", flush=True)


check("Event.set", event_round)
check("a pipe write", pipe_round)
print("ALL OK", flush=True)
