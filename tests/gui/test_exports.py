"""Export panel, cost history and model onto a full disk: a clear message, nothing lost."""

from __future__ import annotations

import pytest

from conftest import User


@pytest.mark.parametrize(
    ("menu", "name"),
    [
        (("File", "Export panel as PNG", "Cost"), "cost.png"),
        (("File", "Export cost history as CSV"), "cost.csv"),
        (("File", "Save model"), "model.npz"),
    ],
)
def test_a_full_disk_keeps_the_old_file_and_says_so(
    open_window, full_disk, menu: tuple[str, ...], name: str
) -> None:
    user: User = open_window()
    window = user.window
    window.training.reset(quiet=True)
    for _ in range(3):
        user.press(window.actions_.step)
    user.wait_for_step(3)
    old = full_disk.write_old(name, b"the picture, history or model saved last week\n")
    before = old.read_bytes()
    with full_disk.full():
        user.answer_file_dialog(old)
        user.menu(*menu)
        user.qtbot.waitUntil(lambda: window.dialogs.message_box is not None, timeout=10_000)
    text = user.answer("OK")
    assert str(old) in text and ("space" in text or "too large" in text), text
    assert old.read_bytes() == before  # byte for byte
    assert [p.name for p in full_disk.folder.iterdir() if not p.name.startswith(".filler")] == [
        name
    ]  # no temporary or truncated file beside it
