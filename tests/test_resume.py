"""intdim.method.resume: stop requests, the saves after each update, and what the message of a
stopped run says."""

import os
import signal
from pathlib import Path

import pytest
from intdim.method.resume import EARLY_STOP_S, Stopped, StopRequests
from interruptions import request_seen_at_look, stopped_after

HINT = "raise resources.runtime"
FOLDER = Path("run/resume")


def test_a_signal_becomes_a_request_with_its_time_and_the_handler_goes_back():
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with StopRequests(FOLDER, 10) as stop:
            assert stop.requested is None
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.requested == "SIGTERM" and 0 <= stop.after_s < EARLY_STOP_S
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("after_s, hint", [(0.0, True), (EARLY_STOP_S - 0.5, True),
                                           (EARLY_STOP_S, False), (3600.0, False)])  # fmt: skip
def test_only_a_stop_soon_after_the_start_says_to_raise_the_runtime(after_s, hint):
    stop = StopRequests(FOLDER, 10)
    stop.requested, stop.after_s = "SIGTERM", after_s
    message = str(stop.stopped(7))
    assert message.startswith(
        "stopped by SIGTERM after update 7; its state is saved in run/resume, and a rerun"
    )
    assert (HINT in message) is hint
    assert (f"came {after_s:.0f} s after training started" in message) is hint


def after_updates(stop, updates):
    """Run ``stop.after_update`` for ``updates`` in turn; the updates saved, and the update a
    stop named (None when none came)."""
    saved = []
    for update in updates:
        try:
            stop.after_update(update, lambda u=update: saved.append(u))
        except Stopped as error:
            return saved, stopped_after(error)
    return saved, None


@pytest.mark.parametrize(
    "since_save_s, saves", [(0.0, False), (4.0, False), (5.0, True), (60.0, True)]
)
def test_the_state_is_saved_once_save_every_s_has_passed_since_the_last_save(since_save_s, saves):
    with StopRequests(FOLDER, 10, save_every_s=5.0) as stop:
        stop.saved_at -= since_save_s
        assert after_updates(stop, [3]) == ([3] if saves else [], None)
        assert after_updates(stop, [4]) == ([], None)  # the save restarted the clock


def test_an_update_the_loop_needs_saved_is_saved_whatever_the_clock():
    with StopRequests(FOLDER, 10, save_every_s=3600.0) as stop:
        saved = []
        stop.after_update(3, lambda: saved.append(3), due=True)
        stop.after_update(4, lambda: saved.append(4), due=False)
        assert saved == [3]


@pytest.mark.parametrize("look", [1, 2, 3, 4, 5])
def test_a_stop_names_the_update_it_saved_whenever_the_request_lands(look):
    with request_seen_at_look(look)(FOLDER, 10, save_every_s=3600.0) as stop:
        saved, named = after_updates(stop, range(1, 11))
    assert named is not None and saved == [named]


@pytest.mark.parametrize("last, stops", [(10, True), (9, True), (8, False)])
def test_a_request_after_the_last_update_saves_and_lets_the_run_finish(last, stops):
    """A request seen after update 8 of ``last``: only a run with updates left stops."""
    with request_seen_at_look(8)(FOLDER, last, save_every_s=3600.0) as stop:
        saved, named = after_updates(stop, range(1, last + 1))
    assert saved == [8] and named == (8 if stops else None)
