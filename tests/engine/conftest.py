"""Fixtures of the engine tests: both engine modes, no child process left behind,
and an exception in any thread (the engine's writer, reader, drive) fails the test."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import MODES

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    strict = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(strict)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """``"process"`` or ``"thread"``: every test using it runs in both."""
    mode: str = request.param
    return mode


@pytest.fixture(autouse=True)
def no_process_left() -> Iterator[None]:
    """Fail a test that leaves a child process running (or unreaped)."""
    yield
    left = multiprocessing.active_children()  # also reaps the finished ones
    assert not left, f"child processes left running: {left}"
