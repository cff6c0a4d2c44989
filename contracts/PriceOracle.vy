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
     Against a bad feeder (finding 14 of docs/security.md): each post must lie within
     `max_change` of the queued price (the current one if none is queued yet), so one feeder
     moves the price by at most that much per poke, and governance can `void` a queued price
     during the delay (OSM's void, but keeping the current price): the queued price becomes the
     current one again and the last post is dropped, so pokes wait for a new post.
     The guardian's void is bounded (issue 72): after a void, the guardian (the EMERGENCY role
     without the admin right) may void again only once a price posted after it is current,
     two pokes later (`void_lock`), so a void holds the current price for at most two pokes;
     the held price keeps the voided post's time, so a void never lets the price go stale
     (max_age guards against a silent feeder, and the feeder had posted); while the lock runs,
     the voided price stays readable (`voided_price`), and the settlement counts it
     (GlobalSettlement.fix_price takes the lowest price the oracle shows: a void cannot raise
     the settlement price).
"""
from interfaces import IPriceOracle
from modules import constants
from modules import authorized as auth

# admins (governance) change parameters and feeders
initializes: auth
exports: auth.__interface__

implements: IPriceOracle

# the widest bound governance may set on a post's move [wad]
MAX_CHANGE: constant(uint256) = 10 * constants.WAD
# pokes after a void before the guardian may void again: the first makes the held price current
# and queues a post made after the void, the second makes that post current
VOID_LOCK_POKES: constant(uint256) = 2

# who may post prices
feeders: public(HashMap[address, bool])

# the most a post may differ from the queued price, up or down [wad]; 0: no bound
max_change: public(uint256)
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
# pokes still to come before the guardian may void again (VOID_LOCK_POKES after each void; 0:
# no void pending)
void_lock: public(uint256)
# the lower of the queued price and the latest post the last void discarded [wad], shown while
# `void_lock` runs (0 after it)
voided_price: public(uint256)


event FeederSet:
    feeder: indexed(address)
    allowed: bool


event DelaySet:
    delay: uint256


event MaxAgeSet:
    max_age: uint256


event MaxChangeSet:
    max_change: uint256


event Voided:
    voided_price: uint256


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
    auth.__init__(auth.EMERGENCY)
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
def set_max_change(new_value: uint256):
    """
    @notice Bound each post to within `new_value` of the queued price.
    @param new_value [wad], at most 10 wad (1000%); 0 removes the bound.
    """
    auth._check_authorized()
    assert new_value <= MAX_CHANGE, "oracle: max change above 10"
    self.max_change = new_value
    log MaxChangeSet(max_change=new_value)


@external
def void():
    """
    @notice Discard the queued price (and the last post) before it takes effect: the next poke
            keeps the current price in effect and needs a new post. Admins, and the
            EMERGENCY role (the guardian: a bad price cannot wait for the delay), which may not
            void again until a price posted after its void is current (`void_lock`).
    """
    auth._check_role(auth.EMERGENCY)
    if not auth.authorized[msg.sender]:
        assert self.void_lock == 0, "oracle: void pending"
    voided: uint256 = self.next_price
    # the lower of the queued price and the latest post, both discarded (the settlement counts
    # it while the lock runs)
    posted: uint256 = self.source_price
    dropped: uint256 = voided
    if posted != 0 and (dropped == 0 or posted < dropped):
        dropped = posted
    self.next_price = self.current_price
    # the held price keeps the voided post's time (the feeder was alive then: the price does not
    # go stale because of the void); with nothing queued, its own
    if voided == 0:
        self.next_time = self.current_time
    self.source_price = 0
    self.source_time = 0
    self.void_lock = VOID_LOCK_POKES
    self.voided_price = dropped
    log Voided(voided_price=voided)


@external
def post(price: uint256):
    """
    @notice Post the market price (feeders only). It is queued by the next poke.
    @param price Stablecoin per collateral token [wad], non-zero, within `max_change` of the
           queued price (of the current price if none is queued).
    """
    assert self.feeders[msg.sender], "oracle: not a feeder"
    assert price != 0, "oracle: zero price"
    reference: uint256 = self.next_price
    if reference == 0:
        reference = self.current_price
    bound: uint256 = self.max_change
    if bound != 0 and reference != 0:
        # reference x (1 - max_change) <= price <= reference x (1 + max_change), both bounds
        # rounded toward the reference (the tighter side)
        if bound < constants.WAD:
            low: uint256 = reference * (constants.WAD - bound)
            assert price * constants.WAD >= low, "oracle: price move too large"
        assert price * constants.WAD <= reference * (constants.WAD + bound), (
            "oracle: price move too large"
        )
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
    lock: uint256 = self.void_lock
    if lock != 0:
        # lock <= VOID_LOCK_POKES: no underflow
        lock = unsafe_sub(lock, 1)
        self.void_lock = lock
        if lock == 0:
            self.voided_price = 0
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
