"""The Auditor's bound on a soft liquidation (contracts/MarginCall.vy): the caller receives at most
the collateral worth the debt it repaid x (1 + the type's bonus) at the highest price the type's
oracle knows (current, queued, latest post), so the caller gains, and the owner gives up, at most
the bonus on the repaid debt at that price, whatever the market does next. Written from the
oracle's and the MarginCall's storage, not from the twin's arithmetic."""

from __future__ import annotations

from typing import Any

from offchain.model.fixed_point import WAD

# wad x wad x 1e9 = rad; a price [wad] times 1e9 is a ray
WAD_TO_RAY = 10**9
# MarginCall's packed parameters: the bonus [wad] sits at bit 64, 64 bits wide
_BONUS_SHIFT, _FIELD = 64, 2**64 - 1


def soft_liquidation_bound(model: Any, margin_call: str, args: dict[str, Any]) -> int:
    """The most collateral [wad] a `SoftLiquidated` event's caller may receive for its debt."""
    m = model.contract(margin_call)
    t = args["collateral_type"]
    bonus = (m.packed_parameters[t] >> _BONUS_SHIFT) & _FIELD
    oracle = model.contract(m.oracles[t])
    highest = max(oracle.current_price, oracle.next_price, oracle.source_price)
    return args["debt"] * (WAD + bonus) // (highest * WAD_TO_RAY * WAD)


def soft_liquidation_problems(model: Any, margin_call: str, events: list[Any]) -> list[str]:
    """Each `SoftLiquidated` whose collateral is above its bound (the caller's gain and the
    owner's loss above the bonus)."""
    bad = []
    for e in events:
        if e.address != margin_call or e.name != "SoftLiquidated":
            continue
        bound = soft_liquidation_bound(model, margin_call, e.args)
        if e.args["collateral"] > bound:
            bad.append(
                f"soft liquidation of {e.args['owner']}'s vault paid {e.args['caller']} "
                f"{e.args['collateral']} of collateral for {e.args['debt']} of debt, above the "
                f"bonus's {bound} at the highest oracle price"
            )
    return bad
