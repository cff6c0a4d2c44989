"""Backstop.set_queue_delay: stored and logged, above a year refused (more in test_setters.py).
Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from support.liquidation import QUEUE_DELAY
from support.liquidation import backstop as _backstop

from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_set_queue_delay__stores_and_logs(system):
    """The delay between a liquidation and the earliest cover of its loss (cover itself is tested
    elsewhere); it may be shortened to zero."""
    r, b = system.roles, system.d.backstop
    system.tx(b, "set_queue_delay", r.governance, 2 * QUEUE_DELAY)
    assert _events(system) == [(b, "QueueDelaySet", {"queue_delay": 2 * QUEUE_DELAY})]
    assert _backstop(system, "queue_delay") == 2 * QUEUE_DELAY
    system.tx(b, "set_queue_delay", r.governance, 0)
    assert _backstop(system, "queue_delay") == 0


def test_set_queue_delay__above_a_year__reverts_too_long(system):
    """Governance may hold losses back a year at most (the Backstop packs the delay beside the
    waterfall; config.py bounds backstop_queue_delay alike); a year itself is accepted, and the
    other fields of the packed word are left as they were."""
    r, b = system.roles, system.d.backstop
    year = 365 * 86_400
    before = [_backstop(system, view) for view in ("live", "get_waterfall", "stability_pool")]
    with reverts("backstop: queue delay too long"):
        system.tx(b, "set_queue_delay", r.governance, year + 1)
    with reverts("backstop: queue delay too long"):
        system.tx(b, "set_queue_delay", r.governance, 2**256 - 1)
    system.tx(b, "set_queue_delay", r.governance, year)
    assert _backstop(system, "queue_delay") == year
    assert [_backstop(system, view) for view in ("live", "get_waterfall", "stability_pool")] == (
        before
    )
