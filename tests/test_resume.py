"""intdim.method.resume: stop requests and what the message of a stopped run says."""

import os
import signal
from pathlib import Path

import pytest
from intdim.method.resume import EARLY_STOP_S, StopRequests

HINT = "raise resources.runtime"


def test_a_signal_becomes_a_request_with_its_time_and_the_handler_goes_back():
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with StopRequests() as stop:
            assert stop.requested is None
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.requested == "SIGTERM" and 0 <= stop.after_s < EARLY_STOP_S
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("after_s, hint", [(0.0, True), (EARLY_STOP_S - 0.5, True),
                                           (EARLY_STOP_S, False), (3600.0, False)])  # fmt: skip
def test_only_a_stop_soon_after_the_start_says_to_raise_the_runtime(after_s, hint):
    stop = StopRequests()
    stop.requested, stop.after_s = "SIGTERM", after_s
    message = str(stop.stopped(7, Path("run/resume")))
    assert message.startswith(
        "stopped by SIGTERM after update 7; its state is saved in run/resume, and a rerun"
    )
    assert (HINT in message) is hint
    assert (f"came {after_s:.0f} s after training started" in message) is hint
