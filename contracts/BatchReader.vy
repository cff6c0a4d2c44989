# pragma version ~=0.4.3
"""
@title BatchReader
@notice A read-only helper for off-chain tools: runs many static calls in one eth_call, so the
        differential tests and the simulator can read the whole system state after every step
        at the cost of one request. Holds no state and no funds; not part of the protocol.
"""


struct Call:
    target: address
    data: Bytes[164]


MAX_CALLS: constant(uint256) = 2048
# the largest getter result read through it: an eight-field struct (a longer result would be cut
# short; the chain backend refuses a result whose length is not its type's)
MAX_RESULT: constant(uint256) = 256


@view
@external
def read(calls: DynArray[Call, MAX_CALLS]) -> DynArray[Bytes[MAX_RESULT], MAX_CALLS]:
    """
    @notice Static-call each target with its calldata; revert if any call reverts.
    @param calls (target, calldata) pairs.
    @return The raw return data of each call, in order.
    """
    results: DynArray[Bytes[MAX_RESULT], MAX_CALLS] = []
    for c: Call in calls:
        results.append(raw_call(c.target, c.data, max_outsize=MAX_RESULT, is_static_call=True))
    return results
