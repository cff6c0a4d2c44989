"""What several test files share: the specification's arithmetic written plainly, independent of
the model's fixed_point helpers, so a test states what a result must be without reusing the code
it checks. (Fixtures are in conftest.py; the lockstep harness is offchain/testing/harness.py.)"""

from __future__ import annotations


def ceil_div(x: int, y: int) -> int:
    """x / y rounded up (the direction every protocol division that favours the protocol uses)."""
    return -(-x // y)
