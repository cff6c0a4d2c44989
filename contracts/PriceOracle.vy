# pragma version ~=0.4.3
"""
@title PriceOracle
@notice A delayed price oracle. Feeders post the market price; `poke` (callable by anyone,
        at most once per `delay` seconds) makes the previously queued price current and
        queues the latest posted one. A posted price therefore takes effect only after at
        least `delay` seconds, which gives governance and keepers time to react to a bad feed.
@dev DSS analogue: OSM. `peek` reports a price as usable only if it is non-zero and was posted
     less than `max_age` seconds ago: a missing, zero or stale price is reported invalid, and
     the Spotter turns an invalid price into a safe price of zero (no vault can take on risk).
     Prices are in the stablecoin's unit per whole collateral token [wad].
"""
from interfaces import IPriceOracle
from modules import authorized as auth

# who may change parameters and feeders
initializes: auth
exports: (auth.authorized, auth.add_authority, auth.remove_authority)

implements: IPriceOracle

# who may post prices
feeders: public(HashMap[address, bool])

# minimum seconds between pokes: the delay a posted price waits before taking effect
delay: public(uint256)
# a current price posted longer ago than this is stale [seconds]
max_age: public(uint256)
# time of the last successful poke [seconds]
last_poke: public(uint256)

# latest posted price [wad] and when it was posted [seconds]
source_price: public(uint256)
source_time: public(uint256)
# price queued by the last poke, current after the next one [wad] and its posting time
next_price: public(uint256)
next_time: public(uint256)
# the price in effect [wad] and its posting time
current_price: public(uint256)
current_time: public(uint256)


event FeederSet:
    feeder: indexed(address)
    allowed: bool


event DelaySet:
    delay: uint256


event MaxAgeSet:
    max_age: uint256


event PricePosted:
    feeder: indexed(address)
    price: uint256


event Poked:
    current_price: uint256
    next_price: uint256


@deploy
def __init__(delay_: uint256, max_age_: uint256):
    """
    @param delay_ Seconds a posted price waits before it takes effect (> 0).
    @param max_age_ Seconds after which a current price is stale (> delay_).
    """
    assert delay_ > 0, "oracle: zero delay"
    assert max_age_ > delay_, "oracle: max age not above delay"
    self.delay = delay_
    self.max_age = max_age_
    auth.__init__()
    log DelaySet(delay=delay_)
    log MaxAgeSet(max_age=max_age_)


@external
def set_feeder(feeder: address, allowed: bool):
    """
    @notice Allow or forbid `feeder` to post prices.
    @param feeder The price poster.
    @param allowed Whether it may post.
    """
    auth._check_authorized()
    self.feeders[feeder] = allowed
    log FeederSet(feeder=feeder, allowed=allowed)


@external
def set_delay(new_value: uint256):
    """
    @notice Set the minimum time between pokes.
    @param new_value Seconds (> 0 and < max_age).
    """
    auth._check_authorized()
    assert new_value > 0, "oracle: zero delay"
    assert self.max_age > new_value, "oracle: max age not above delay"
    self.delay = new_value
    log DelaySet(delay=new_value)


@external
def set_max_age(new_value: uint256):
    """
    @notice Set the age after which the current price is stale.
    @param new_value Seconds (> delay).
    """
    auth._check_authorized()
    assert new_value > self.delay, "oracle: max age not above delay"
    self.max_age = new_value
    log MaxAgeSet(max_age=new_value)


@external
def post(price: uint256):
    """
    @notice Post the market price (feeders only). It is queued by the next poke.
    @param price Stablecoin per collateral token [wad], non-zero.
    """
    assert self.feeders[msg.sender], "oracle: not a feeder"
    assert price != 0, "oracle: zero price"
    self.source_price = price
    self.source_time = block.timestamp
    log PricePosted(feeder=msg.sender, price=price)


@external
def poke():
    """
    @notice Make the queued price current and queue the latest posted price. Anyone may
            call, at most once per `delay` seconds.
    """
    assert block.timestamp >= self.last_poke + self.delay, "oracle: too early"
    assert self.source_price != 0, "oracle: no price posted"
    self.current_price = self.next_price
    self.current_time = self.next_time
    self.next_price = self.source_price
    self.next_time = self.source_time
    self.last_poke = block.timestamp
    log Poked(current_price=self.current_price, next_price=self.next_price)


@view
@external
def peek() -> (uint256, bool):
    """
    @notice The price in effect and whether it may be used.
    @return (price [wad], valid): valid only if the price is non-zero and not stale.
    """
    return self.current_price, self._fresh(self.current_price, self.current_time)


@view
@external
def peek_next() -> (uint256, bool):
    """
    @notice The price that the next poke will make current, and whether it would be valid now.
    @return (price [wad], valid).
    """
    return self.next_price, self._fresh(self.next_price, self.next_time)


@view
@internal
def _fresh(price: uint256, posted_at: uint256) -> bool:
    return price != 0 and block.timestamp <= posted_at + self.max_age
