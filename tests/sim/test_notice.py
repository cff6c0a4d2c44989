"""The notice bot's strategy (offchain/sim/strategies/notice.py) on its own: which vaults the
oracle's queued price calls or makes unsafe, against a full scan by the rules stated plainly here
(the engine's size-aware safety, the MarginCall's warning level, the Spotter's safe price), when the
queued price can become current, and one notice per vault per queued price.

No money moves: the notifier sends nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.notice import (
    CALLED,
    JUDGED,
    NOT_JUDGED,
    SAFE,
    UNSAFE,
    NoticeStep,
    NoticeView,
    QueuedCall,
    QueuedChange,
    QueuedPrice,
    Risk,
    at_risk,
    changed_risks,
    decimal_text,
    notice_fields,
    read_notice_view,
    status,
    track,
)
from offchain.system.privileges import TABLE, VAULT_LIMIT, class_of
from offchain.testing.specification.curves import ceil_div, margin_debt

TYPE = b"ETH-A".ljust(32, b"\0")
RATIO = 3 * RAY // 2  # the liquidation ratio, 1.5
WARNING = 12 * RAY // 10  # the deployment's warning factor, 1.2
ORACLE, ENGINE, SPOTTER, MARGIN_CALL = "0xo", "0xe", "0xs", "0xm"


def _owner(i: int) -> str:
    return f"0x{i:040x}"


def _index(vaults: list[tuple[int, int]]) -> VaultIndex:
    index = VaultIndex(TYPE)
    for i, (collateral, normalized) in enumerate(vaults):
        index.apply_args(
            {
                "collateral_type": TYPE,
                "owner": _owner(i),
                "delta_collateral": collateral,
                "delta_normalized_debt": normalized,
            }
        )
    return index


def _view(
    queued: int,
    current: int = 2_000 * WAD,
    rate: int = RAY,
    size: int = 0,
    warning: int = WARNING,
    valid: bool = True,
    ratio: int = RATIO,
) -> NoticeView:
    return NoticeView(
        TYPE,
        rate,
        ratio,
        size,
        warning,
        current,
        True,
        QueuedPrice(queued, 1_000, 2_000, 5_600, valid),
    )


def _stated(
    collateral: int,
    normalized: int,
    view: NoticeView,
    price: int,
    valid: bool,
    safe: int | None = None,
) -> str:
    """The rules, plainly: safe price = floor(price x 1e9 x RAY / ratio) (0 if invalid; `safe`
    [ray] where given: set in the engine); unsafe when the size-weighted debt exceeds collateral
    x safe price; called when safe and the size-weighted debt x warning, rounded up, exceeds it
    (only with margin calls)."""
    s = price * 10**9 * RAY // view.ratio if valid else 0
    if safe is not None:
        s = safe
    m = margin_debt(normalized * view.rate, sizing.unpack(view.size))
    if m > collateral * s:
        return UNSAFE
    if view.warning and ceil_div(m * view.warning, RAY) > collateral * s:
        return CALLED
    return SAFE


_vaults = st.lists(st.tuples(st.integers(0, 100 * WAD), st.integers(0, 200_000 * WAD)), max_size=30)
_sizes = st.one_of(
    st.just(0),
    st.builds(
        sizing.pack,
        st.integers(1, 100_000),
        st.integers(1, sizing.MAX_SLOPE),
        st.integers(1, sizing.MAX_CAP),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    vaults=_vaults,
    queued=st.integers(1, 5_000 * WAD),
    current=st.integers(1, 5_000 * WAD),
    rate=st.integers(RAY, 2 * RAY),
    size=_sizes,
    warning=st.one_of(st.just(0), st.integers(RAY + 1, 3 * RAY // 2)),
    valid=st.booleans(),
)
def test_at_risk__equals_a_full_scan_by_the_stated_rules(
    vaults, queued, current, rate, size, warning, valid
):
    index = _index(vaults)
    view = _view(queued, current, rate, size, warning, valid)
    got = {r.owner: r for r in at_risk(index, view)}
    expected = {}
    for owner, (c, n) in index.vaults.items():
        then = _stated(c, n, view, queued, valid)
        if then != SAFE:
            expected[owner] = Risk(owner, c, n * rate, _stated(c, n, view, current, True), then)
    assert got == expected


def test_status__at_the_edges_of_the_warning_level_and_the_limit():
    """At 2,000 a token and ratio 1.5 the safe price is 1,333.33..; 1 token carries debt up to
    the collateral's value at it (safe), and is called above that divided by 1.2."""
    s = 2_000 * WAD * 10**9 * RAY // RATIO
    value = 1 * WAD * s  # rad
    # the warning level: ceil(D x 1.2) <= value is not called; one wei of rad more is
    at_warning = value * RAY // WARNING
    assert ceil_div(at_warning * WARNING, RAY) <= value
    assert status(WAD, at_warning, s, 0, WARNING) == SAFE
    assert status(WAD, at_warning + 1, s, 0, WARNING) == CALLED
    # the limit: D = value is safe (called), one more wei of rad is unsafe
    assert status(WAD, value, s, 0, WARNING) == CALLED
    assert status(WAD, value + 1, s, 0, WARNING) == UNSAFE
    # without margin calls the band does not exist
    assert status(WAD, at_warning + 1, s, 0, 0) == SAFE


def test_status__size_margin__a_large_vault_safe_at_the_base_ratio_is_unsafe_at_its_size():
    """Threshold 25,000, +10% per threshold, at most +50%: a 100,000 debt carries +30%, so its
    collateral must be worth 1.5 x 1.3 = 1.95 x the debt; at 1.9 it is unsafe."""
    size = sizing.pack(25_000, 100_000, 500_000)
    debt = 100_000 * RAD
    collateral = 95 * WAD  # 95 tokens at 2,000: 190,000, ratio 1.9
    s = 2_000 * WAD * 10**9 * RAY // RATIO
    assert status(collateral, debt, s, 0, WARNING) == SAFE  # 1.9: above 1.5 x 1.2
    assert status(collateral, debt, s, size, WARNING) == UNSAFE
    r = Risk("0xa", collateral, debt, UNSAFE, UNSAFE)
    fields = notice_fields("ETH-A", _view(2_000 * WAD, size=size), r, 0, None)
    assert fields["liquidation_ratio"] == "1.95"
    assert fields["warning_ratio"] == "2.34"
    assert fields["collateral_ratio"] == "1.9"


def _reader(values: dict[tuple[str, str], Any]):
    def read(calls):
        return [values[(address, fn)] for address, fn, _ in calls]

    return read


def _deployment(margin_call: str = MARGIN_CALL) -> Any:
    """The addresses the notifier reads (a Deployment and TypeDeployment in what it uses)."""
    t = SimpleNamespace(type_id=TYPE, oracle=ORACLE)
    return SimpleNamespace(
        engine=ENGINE, spotter=SPOTTER, margin_call=margin_call, types={"ETH-A": t}
    )


def _chain(next_time: int, last_poke: int, next_price: int = 1_800 * WAD, oracle_set=True):
    return {
        (ORACLE, "next_price"): next_price,
        (ORACLE, "next_time"): next_time,
        (ORACLE, "last_poke"): last_poke,
        (ORACLE, "delay"): 3_600,
        (ORACLE, "max_age"): 10_800,
        (ORACLE, "peek"): (2_000 * WAD, True),
        (ENGINE, "collateral_types"): (0, RAY + 7, 0),
        (SPOTTER, "liquidation_ratios"): RATIO,
        (ENGINE, "size_margin_word"): 0,
        (MARGIN_CALL, "parameters"): (WARNING, 2 * 10**16, WAD // 2),
        (SPOTTER, "oracles"): "0x" + ("00" if not oracle_set else "11") * 20,
    }


def test_read_notice_view__current_at_is_the_last_poke_plus_the_delay_not_the_post_time():
    """A price posted at 1,000 and queued by the poke at 2,000 can become current at 5,600
    (PriceOracle.poke: last_poke + delay), not at 4,600."""
    d = _deployment()
    view = read_notice_view(_reader(_chain(1_000, 2_000)), d, d.types["ETH-A"])
    assert view is not None
    assert view.queued == QueuedPrice(1_800 * WAD, 1_000, 2_000, 5_600, True)
    assert (view.rate, view.warning, view.ratio) == (RAY + 7, WARNING, RATIO)
    # posted so long before it was queued that it is stale when it can become current (13,000 +
    # 3,600 > 1,000 + 10,800, the max age): invalid, so a safe price of 0
    stale = read_notice_view(_reader(_chain(1_000, 13_000)), d, d.types["ETH-A"])
    assert stale is not None and not stale.queued.valid and stale.safe_then == 0
    # no queued price yet: nothing to judge
    assert read_notice_view(_reader(_chain(0, 0, next_price=0)), d, d.types["ETH-A"]) is None
    # no oracle in the Spotter for the type (the MarginCall reads the Spotter's), or no
    # MarginCall: no margin calls
    off = read_notice_view(_reader(_chain(1_000, 2_000, oracle_set=False)), d, d.types["ETH-A"])
    assert off is not None and off.warning == 0
    bare = _deployment("")
    none = read_notice_view(_reader(_chain(1_000, 2_000)), bare, bare.types["ETH-A"])
    assert none is not None and none.warning == 0


def test_at_risk__a_stale_queued_price__every_vault_with_debt_is_unsafe():
    index = _index([(100 * WAD, WAD), (100 * WAD, 0)])
    risks = at_risk(index, _view(2_000 * WAD, valid=False))
    assert [(r.owner, r.now, r.then) for r in risks] == [(_owner(0), SAFE, UNSAFE)]


def test_track__one_notice_per_vault_per_queued_price_and_status__then_cleared():
    a, b = Risk("0xa", 1, 1, SAFE, CALLED), Risk("0xb", 1, 1, CALLED, UNSAFE)
    slot = [2_000, 1_800 * WAD, 1_000]
    new, cleared, notified = track({}, slot, [a, b])
    assert (new, cleared) == ([a, b], [])
    # the same queued price next block: nothing
    assert track(notified, slot, [a, b])[:2] == ([], [])
    # a's status at the same price worsens: notified again
    a2 = Risk("0xa", 1, 2, CALLED, UNSAFE)
    new, cleared, notified = track(notified, slot, [a2, b])
    assert (new, cleared) == ([a2], [])
    # a new queued price: b still at risk (notified again), a no longer (cleared)
    new, cleared, notified = track(notified, [5_600, 1_900 * WAD, 5_000], [b])
    assert (new, cleared, list(notified)) == ([b], ["0xa"], ["0xb"])


class _World:
    """What NoticeStep reads of a World."""

    def __init__(self, d: Any, values: dict, index: VaultIndex, now: int):
        self.d, self.values, self._index, self.now = d, values, index, now

    def read(self, calls):
        out = []
        for address, fn, args in calls:
            if fn == "opted_in":
                out.append(args[0] == _owner(0))
            elif fn == "can_act":
                out.append(args[0] == _owner(0))
            else:
                out.append(self.values[(address, fn)])
        return out

    def index(self, name: str) -> VaultIndex:
        return self._index

    def clock(self) -> int:
        return self.now


def test_notice_step__lines_once_per_queued_price__time_left__cleared_after():
    """Vault 0 (opted in) at 1.9 is called by a queued 1,800 (1.71), vault 1 at 1.6 made unsafe
    (1.44), vault 2 at 2.5 stays safe (2.25)."""
    d = _deployment()
    values = _chain(1_000, 2_000)
    values[(ENGINE, "collateral_types")] = (0, RAY, 0)
    debt = 5_000 * WAD
    index = _index([(debt * 19 // 10 // 2_000, debt), (debt * 16 // 10 // 2_000, debt)])
    index.apply_args(
        {
            "collateral_type": TYPE,
            "owner": _owner(2),
            "delta_collateral": debt * 25 // 10 // 2_000,
            "delta_normalized_debt": debt,
        }
    )
    lines: list[tuple[str, dict]] = []
    step = NoticeStep(lambda event, fields: lines.append((event, fields)))
    world: Any = _World(d, values, index, 4_000)
    assert step.decide(world, ["ETH-A"]) == []
    # closest to liquidation first
    unsafe, called = (f for _, f in lines)
    assert called["owner"] == _owner(0) and unsafe["owner"] == _owner(1)
    assert (called["status"], called["status_now"]) == (CALLED, SAFE)  # 1.71 and 1.9 vs 1.8
    assert (unsafe["status"], unsafe["status_now"]) == (UNSAFE, CALLED)
    assert called["seconds_left"] == 1_600 and called["current_at"] == 5_600
    assert called["opted_in"] and called["soft_liquidable"] and not unsafe["opted_in"]
    assert (called["collateral_ratio"], called["projected_ratio"]) == ("1.9", "1.71")
    assert (unsafe["collateral_ratio"], unsafe["projected_ratio"]) == ("1.6", "1.44")
    assert called["debt"] == "5000" and called["queued_price"] == "1800"
    # the next block, the same queued price: no line
    world.now = 4_012
    step.decide(world, ["ETH-A"])
    assert len(lines) == 2
    # a new queued price (2,100) at which only vault 1 (1.68) is at risk: it is notified again,
    # vault 0 (1.995) is cleared
    values.update({(ORACLE, "next_price"): 2_100 * WAD, (ORACLE, "last_poke"): 5_600})
    step.decide(world, ["ETH-A"])
    (e1, again), (e2, clear) = lines[2:]
    assert (e1, again["owner"], again["status"]) == ("notice", _owner(1), CALLED)
    assert again["seconds_left"] == 5_600 + 3_600 - 4_012
    assert (e2, clear["owner"], clear["status"], clear["was"]) == (
        "notice_cleared",
        _owner(0),
        SAFE,
        CALLED,
    )
    assert clear["reason"] == "a new queued price"


def test_decimal_text__exact():
    assert decimal_text(5_000 * WAD, 18) == "5000"
    assert decimal_text(5_000 * WAD + 1, 18) == "5000.000000000000000001"
    assert decimal_text(1_710_000, 6) == "1.71"
    assert decimal_text(0, 6) == "0"


_RANKS = {SAFE: 0, CALLED: 1, UNSAFE: 2}


@settings(max_examples=300, deadline=None)
@given(
    vaults=_vaults,
    current=st.integers(1, 5_000 * WAD),
    rate=st.integers(RAY, 2 * RAY),
    size=_sizes,
    new_size=st.one_of(st.none(), _sizes),
    new_ratio=st.one_of(st.none(), st.integers(RAY, 3 * RAY)),
    warning=st.one_of(st.just(0), st.integers(RAY + 1, 3 * RAY // 2)),
)
def test_changed_risks__a_queued_change__exactly_the_vaults_it_worsens_at_the_current_price(
    vaults, current, rate, size, new_size, new_ratio, warning
):
    """Each vault whose status at the current price is worse under the proposal's ratio and size
    margin than under today's, by the rules stated plainly, and no other."""
    index = _index(vaults)
    view = _view(1, current, rate, size, warning)
    change = QueuedChange(1, 10_000, TYPE, new_ratio, new_size)
    after = _view(
        1,
        current,
        rate,
        size if new_size is None else new_size,
        warning,
        ratio=RATIO if new_ratio is None else new_ratio,
    )
    got = {r.owner: r for r in changed_risks(index, view, change)}
    expected = {}
    for owner, (c, n) in index.vaults.items():
        now = _stated(c, n, view, current, True)
        then = _stated(c, n, after, current, True)
        if _RANKS[then] > _RANKS[now]:
            expected[owner] = Risk(owner, c, n * rate, now, then)
    assert got == expected


# vaults near the limits at a price near 2,000: (collateral, normalized debt) at a collateral
# ratio from 0.9 to 3.5 at 2,000
_near_vaults = st.lists(
    st.tuples(st.integers(1, 100 * WAD), st.integers(900, 3_500)), max_size=30
).map(lambda vs: [(c, c * 2_000 * 1_000 // r) for c, r in vs])


@settings(max_examples=500, deadline=None)
@given(
    vaults=st.one_of(_vaults, _near_vaults),
    current=st.integers(1_500 * WAD, 2_500 * WAD),
    rate=st.integers(RAY, 2 * RAY),
    size=_sizes,
    warning=st.integers(RAY + 1, 3 * RAY // 2),
    margin_calls=st.booleans(),
    # each change left out half of the time or more: one change alone is judged too
    new_ratio=st.one_of(st.none(), st.integers(RAY, 3 * RAY)),
    new_safe=st.one_of(st.none(), st.none(), st.just(0), st.integers(1, 3_000 * RAY)),
    new_warning=st.one_of(st.none(), st.just(0), st.integers(RAY + 1, 3 * RAY // 2)),
    rate_delta=st.one_of(st.just(0), st.integers(-RAY // 2, RAY)),
)
def test_changed_risks__a_safe_price_a_warning_factor_a_rate_fold__the_worse_of_poke_and_set(
    vaults,
    current,
    rate,
    size,
    warning,
    margin_calls,
    new_ratio,
    new_safe,
    new_warning,
    rate_delta,
):
    """Under a proposal that sets the engine's safe price, the MarginCall's warning factor
    (applied only where the type can have margin calls) and folds the rate, each vault is judged
    at the worse of the Spotter's poke of the current price at the new ratio and the safe price
    set (in force until that poke), with the debt at the folded rate: exactly the vaults it
    worsens, by the rules stated plainly."""
    index = _index(vaults)
    view = NoticeView(
        TYPE,
        rate,
        RATIO,
        size,
        warning if margin_calls else 0,
        current,
        True,
        QueuedPrice(1, 1_000, 2_000, 5_600, True),
        margin_calls,
    )
    change = QueuedChange(1, 10_000, TYPE, new_ratio, None, new_safe, new_warning, rate_delta)
    then_warning = view.warning
    if new_warning is not None:
        then_warning = new_warning if margin_calls else 0
    after = _view(
        1,
        current,
        rate + rate_delta,
        size,
        then_warning,
        ratio=RATIO if new_ratio is None else new_ratio,
    )
    got = {r.owner: r for r in changed_risks(index, view, change)}
    expected = {}
    for owner, (c, n) in index.vaults.items():
        now = _stated(c, n, view, current, True)
        then = _stated(c, n, after, current, True)
        if new_safe is not None:
            at_set = _stated(c, n, after, current, True, safe=new_safe)
            then = max(then, at_set, key=_RANKS.__getitem__)
        if _RANKS[then] > _RANKS[now]:
            expected[owner] = Risk(owner, c, n * rate, now, then)
    assert got == expected


def test_changed_risks__the_worse_of_the_poke_and_the_set_price_counts():
    """A vault at 1.7 (called now: below 1.5 x 1.2): a proposal raising the ratio to 2 (unsafe
    at the Spotter's next poke) and setting a safe price at ratio 1.5 (still called there) makes
    it unsafe: whoever pokes first decides, so the worse counts."""
    debt = 10_000 * WAD
    index = _index([(debt * 17 // 10 // 2_000, debt)])
    view = _view(1)
    set_price = 2_000 * WAD * 10**9 * RAY // RATIO
    change = QueuedChange(1, 10_000, TYPE, 2 * RAY, safe_price=set_price)
    assert [(r.now, r.then) for r in changed_risks(index, view, change)] == [(CALLED, UNSAFE)]
    # the set price alone leaves it as it is: no line
    assert changed_risks(index, view, QueuedChange(1, 10_000, TYPE, safe_price=set_price)) == []


def test_queued_change__a_safe_price_a_warning_factor_rate_folds__per_type():
    """set_safe_price and the MarginCall's set_parameters (the warning factor, its first
    parameter) or remove (0): the last one wins; rate folds add up."""
    d = SimpleNamespace(spotter=SPOTTER, engine=ENGINE, margin_call=MARGIN_CALL)
    other = b"WBTC-A".ljust(32, b"\0")
    calls = [
        (ENGINE, "set_safe_price", (TYPE, 0)),
        (MARGIN_CALL, "set_parameters", (TYPE, 14 * RAY // 10, 0, WAD // 2)),
        (ENGINE, "fold_rate", (TYPE, "0xbe", RAY // 10)),
        (ENGINE, "fold_rate", (TYPE, "0xbe", RAY // 5)),
        (MARGIN_CALL, "remove", (other,)),
    ]
    changes = QueuedChange.of(7, 99, calls, d)  # type: ignore[arg-type]
    assert changes == [
        QueuedChange(7, 99, TYPE, safe_price=0, warning=14 * RAY // 10, rate_delta=3 * RAY // 10,
                     calls=("VaultEngine.set_safe_price", "MarginCall.set_parameters",
                            "VaultEngine.fold_rate")),
        QueuedChange(7, 99, other, warning=0, calls=("MarginCall.remove",)),
    ]  # fmt: skip


def test_queued_change__of_a_proposals_calls__per_type__last_call_wins__bad_size_skipped():
    d = SimpleNamespace(spotter=SPOTTER, engine=ENGINE)
    other = b"WBTC-A".ljust(32, b"\0")
    calls = [
        (SPOTTER, "set_liquidation_ratio", (TYPE, 2 * RAY)),
        (SPOTTER, "set_liquidation_ratio", (TYPE, 17 * RAY // 10)),
        (ENGINE, "set_size_margin", (TYPE, 25_000, 100_000, 500_000)),
        (ENGINE, "set_size_margin", (other, 0, 5, 0)),  # refused by the engine: no change
        ("0xb", "set_waterfall", ([1],)),
    ]
    changes = QueuedChange.of(7, 99, calls, d)  # type: ignore[arg-type]
    assert changes == [
        QueuedChange(
            7,
            99,
            TYPE,
            17 * RAY // 10,
            sizing.pack(25_000, 100_000, 500_000),
            calls=("Spotter.set_liquidation_ratio", "VaultEngine.set_size_margin"),
        )
    ]


def _names(address: str) -> str:
    """The contract names the deployment record gives the test's addresses."""
    return {
        ENGINE: "VaultEngine",
        SPOTTER: "Spotter",
        MARGIN_CALL: "MarginCall",
        ORACLE: "PriceOracle",
        "0xtoken": "GovernanceToken",
        "0xtimelock": "Timelock",
        "0xfees": "FeeAccumulator",
        "0xbackstop": "Backstop",
    }.get(address, address)


def _call_lines(calls: list, now: int = 4_000, step: NoticeStep | None = None) -> list:
    """The lines a NoticeStep emits for proposal 3's `calls` (eta 10,000) at `now`."""
    queued = QueuedCall.of(3, 10_000, calls, _names)
    lines: list[tuple[str, dict]] = []
    step = step or NoticeStep(lambda event, fields: lines.append((event, fields)))
    step.calls = lambda: queued
    world: Any = SimpleNamespace(clock=lambda: now, d=_deployment())
    step._call_notices(world)
    return lines


def test_queued_call__rights_a_proposal_hands_out__flagged_once_each_with_the_time_left():
    """A proposal's calls that grant a right (an admin, a role, a minter, a feeder, a price
    source, the Timelock's proposer or guardian), and a call the notifier could not read, are
    flagged, one `proposal_grant` line per call, once (the state is the checkpoint), with the
    fields they had before value moves and vault limits were flagged too; a minter or feeder
    removed is not."""
    who = "0x" + "ab" * 20
    calls = [
        (SPOTTER, "set_liquidation_ratio", (TYPE, 2 * RAY)),  # a vault limit: its own line
        ("0x" + "cd" * 20, "", ()),  # a call the notifier could not read: flagged too
        (ENGINE, "grant_role", (who, 4)),
        ("0xtoken", "set_minter", (who, False)),  # takes the right away
        ("0xtoken", "set_minter", (who, True)),
        (ENGINE, "add_authority", (who,)),
        ("0xtimelock", "set_guardian", (who,)),
        (ORACLE, "set_feeder", (who, False)),  # takes the right away
        (ORACLE, "set_feeder", (who, True)),
        (SPOTTER, "set_oracle", (TYPE, who)),
    ]
    lines: list[tuple[str, dict]] = []
    step = NoticeStep(lambda event, fields: lines.append((event, fields)))
    _call_lines(calls, step=step)
    _call_lines(calls, step=step)  # the next round: nothing new
    grants = [f for e, f in lines if e == "proposal_grant"]
    assert [e for e, _ in lines] == ["proposal_vault_limit"] + ["proposal_grant"] * 7
    # the price source is the oracle, the call's last argument (its first is the type)
    assert (grants[6]["grants"], grants[6]["account"]) == ("price source", who)
    unread = grants[0]
    assert (unread["grants"], unread["call"], unread["account"]) == ("unread call", "", "")
    assert unread["contract"] == "0x" + "cd" * 20
    assert grants[1] == {
        "proposal": 3,
        "grants": "role",
        "contract": "VaultEngine",
        "call": "grant_role",
        "account": who,
        "role": 4,
        "eta": 10_000,
        "seconds_left": 6_000,
        "as_of": 4_000,
    }
    assert [f["grants"] for f in grants] == [
        "unread call",
        "role",
        "minter",
        "admin",
        "guardian",
        "feeder",
        "price source",
    ]
    assert step.state["grants_flagged"] == [
        "3:0", "3:1", "3:2", "3:4", "3:5", "3:6", "3:8", "3:9"
    ]  # fmt: skip


def test_queued_call__value_moves_and_vault_limits__a_line_each__parameters_and_pokes_none():
    """The calls of issue 72's finding, each a line: a vault's collateral seized, stablecoin
    created unbacked, the governance token's ownership handed over, the fee recipient and the
    pool's fee share redirected, the Backstop's layers replaced, the order of the losses already
    queued (the waterfall: the seventh round); the engine's safe price set (judged per vault) and
    the dust (not: one line says why). A parameter (a base fee), a poke anyone may make and an
    allowance taken back (approve 0) get none; a function the table does not class is flagged as
    such."""
    who, owner = "0x" + "be" * 20, _owner(0)
    calls = [
        (ENGINE, "seize", (TYPE, owner, who, who, -1_000 * WAD, -(10**24))),
        (ENGINE, "create_unbacked", (who, who, 10**6 * RAD)),
        ("0xtoken", "transfer_ownership", (who,)),
        ("0xfees", "set_fee_recipient", (who,)),
        ("0xfees", "set_pool_fee_share", (who, WAD)),
        ("0xbackstop", "set_layer_contracts", (who, who, who)),
        (ENGINE, "set_safe_price", (TYPE, 0)),
        (ENGINE, "set_dust", (TYPE, 10**4 * RAD)),
        ("0xbackstop", "set_waterfall", ([4, 1],)),
        ("0xfees", "set_base_fee", (TYPE, 10**27)),
        (SPOTTER, "poke", (TYPE,)),
        ("0xtoken", "approve", (who, 0)),
        (ENGINE, "debt_ceiling", (TYPE,)),  # a view: not in the table
    ]
    queued = QueuedCall.of(
        3,
        10_000,
        calls,
        _names,
        lambda c, f, n: ("debt_dst", "stable_dst", "amount")[:n] if f == "create_unbacked" else (),
    )
    assert [c.kind for c in queued] == [
        "value", "value", "grant", "value", "value", "value", "vault limit", "vault limit",
        "value", "parameter", "public", "grant", None,
    ]  # fmt: skip
    lines: list[tuple[str, dict]] = []
    step = NoticeStep(lambda event, fields: lines.append((event, fields)), calls=lambda: queued)
    step._call_notices(SimpleNamespace(clock=lambda: 4_000, d=_deployment()))  # type: ignore[arg-type]
    assert [(e, f.get("call")) for e, f in lines] == [
        ("proposal_value", "seize"),
        ("proposal_value", "create_unbacked"),
        ("proposal_grant", "transfer_ownership"),
        ("proposal_value", "set_fee_recipient"),
        ("proposal_value", "set_pool_fee_share"),
        ("proposal_value", "set_layer_contracts"),
        ("proposal_vault_limit", "set_safe_price"),
        ("proposal_vault_limit", "set_dust"),
        ("proposal_value", "set_waterfall"),
        ("proposal_grant", "debt_ceiling"),
    ]
    seize = lines[0][1]
    assert seize == {
        "proposal": 3,
        "index": 0,
        "contract": "VaultEngine",
        "call": "seize",
        # the type's id read as its name; integers exact, in the contract's units
        "args": ["ETH-A", owner, who, who, str(-1_000 * WAD), str(-(10**24))],
        "eta": 10_000,
        "seconds_left": 6_000,
        "as_of": 4_000,
    }
    assert lines[1][1]["args"] == {"debt_dst": who, "stable_dst": who, "amount": str(10**51)}
    assert (lines[2][1]["grants"], lines[2][1]["account"]) == ("owner", who)
    safe, dust = lines[6][1], lines[7][1]
    assert (safe["per_vault"], safe["reason"], safe["args"]) == (True, "", ["ETH-A", "0"])
    assert dust["per_vault"] is False and "dust" in dust["reason"]
    assert lines[9][1]["grants"] == "unclassed call"


def test_every_vault_limit_is_judged_per_vault_or_says_why_not():
    limits = {
        (contract, function)
        for contract, functions in TABLE.items()
        for function, kind in functions.items()
        if kind == VAULT_LIMIT
    }
    assert limits == (JUDGED - {("VaultEngine", "fold_rate")}) | set(NOT_JUDGED)
    assert class_of("VaultEngine", "fold_rate") == "value"  # judged too: it raises every debt
