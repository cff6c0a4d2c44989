"""What the keepers and the other actors decide: pure strategies from observed state to intended
actions, shared by the simulator and the live bots (offchain/live/). `keepers.py` is their face
(the vault index, the liquidator's, the feeder's and the arbitrageur's strategies), with
`taker.py`, `backstop_keeper.py`, `soft_liquidator.py`, `notice.py` (the notice bot) and
`attacker.py` (the known attack shapes); `actions.py` is what a strategy intends and when it
lands, `observe.py` what a keeper reads before it decides, `steps.py` the loop of one step per
actor, `gas_costs.py` what each transaction costs in gas and how a liquidation batch is sized,
and `gas_strategy.py` and `gas_budget.py` how a keeper bids for gas and what it sends within its
budget."""
