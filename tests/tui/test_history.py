"""The jump list behind ctrl+o and ctrl+i."""

from __future__ import annotations

from agentreplay.tui.history import JumpList


def test_back_and_forward_retrace_the_jumps() -> None:
    jumps = JumpList()
    jumps.jumped(1)  # 1 -> 5
    jumps.jumped(5)  # 5 -> 9
    assert jumps.back(9) == 5
    assert jumps.back(5) == 1
    assert jumps.back(1) is None
    assert jumps.forward(1) == 5
    assert jumps.forward(5) == 9
    assert jumps.forward(9) is None


def test_a_new_jump_forgets_the_way_forward() -> None:
    jumps = JumpList()
    jumps.jumped(1)
    assert jumps.back(4) == 1
    jumps.jumped(1)  # 1 -> 7
    assert jumps.forward(7) is None
    assert jumps.back(7) == 1


def test_the_list_keeps_the_latest_jumps() -> None:
    jumps = JumpList(limit=3)
    for origin in range(1, 10):
        jumps.jumped(origin)
    assert [jumps.back(100), jumps.back(0), jumps.back(0), jumps.back(0)] == [9, 8, 7, None]
