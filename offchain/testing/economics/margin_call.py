"""The Auditor's bound on a soft liquidation (contracts/MarginCall.vy): the caller receives at most
the collateral worth the debt it repaid x (1 + the type's bonus) at the highest price the type's
oracle knows (current, queued, latest post), so the caller gains, and the owner gives up, at most
the bonus on the repaid debt at that price, whatever the market does next. Written from the
oracle's and the MarginCall's storage (the formula is the model's one home, the prices and the
bonus read afresh: a twin that paid at the wrong price or applied the bonus twice is caught)."""

from __future__ import annotations

from typing import Any

from offchain.model.margin_call import MarginParameters, collateral_out, exchange_price


def soft_liquidation_bound(model: Any, margin_call: str, args: dict[str, Any]) -> int:
    """The most collateral [wad] a `SoftLiquidated` event's caller may receive for its debt: the
    collateral out (offchain/model/margin_call.py) at the highest price the type's oracle (the
    Spotter's) knows, read from storage, not from the event."""
    m = model.contract(margin_call)
    t = args["collateral_type"]
    bonus = MarginParameters.unpack(m.packed_parameters[t]).bonus
    oracle = model.contract(model.contract(m.spotter).oracles[t])
    highest = exchange_price(oracle.current_price, oracle.next_price, oracle.source_price)
    return collateral_out(args["debt"], bonus, highest)


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
