"""The EVM backends' own machinery (ChainBackend on Anvil and RevmBackend in process, each against
the model) and the decoders against eth_abi: several transactions mined as one block
(`transact_block`, which the simulator uses for everything an actor decides from one read), and
the return decoders built once per function that every state read uses.

Money flow checked here: a token minted, transferred and over-transferred inside one block moves
the same amounts on the chain and in the model; the reverted transfer moves nothing."""

from __future__ import annotations

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.backends import ChainBackend, ModelBackend, RevmBackend, RpcError, model_value
from offchain.backends.abi import AbiFunction, python_value, return_decoder, static_encoder
from offchain.backends.anvil import Anvil
from offchain.backends.base import intrinsic_gas
from offchain.backends.rpc import call_label, describe, short_value
from offchain.model.errors import Revert
from offchain.sim.scenario.population import actor_address

GENESIS = 1_700_000_000
WAD = 10**18


@pytest.fixture(scope="module", params=["anvil", "revm"])
def pair(request, artifacts):
    people = [actor_address("block-test", i) for i in range(4)]
    model = ModelBackend(GENESIS)
    if request.param == "revm":
        chain = RevmBackend(artifacts[0], artifacts[1], GENESIS)
        token = chain.deploy("TestToken", people[0], "Test", "TST", 18)
        assert model.deploy("TestToken", people[0], "Test", "TST", 18) == token
        yield chain, model, token, people
        return
    with Anvil(GENESIS) as node:
        chain = ChainBackend(node.url, artifacts[0], artifacts[1])
        chain.rpc_batch([("anvil_setBalance", [who, hex(10**24)]) for who in people])
        token = chain.deploy("TestToken", people[0], "Test", "TST", 18)
        assert model.deploy("TestToken", people[0], "Test", "TST", 18) == token
        yield chain, model, token, people


@pytest.mark.parametrize(
    "spender",
    ["0x0000000000000000000000000000000000000001", "0x1111111111111111111111111111111111111111"],
)
def test_intrinsic_gas__the_least_limit_a_node_runs__one_less_never_runs_on_anvil(pair, spender):
    """An approve whose calldata is mostly zero bytes, then mostly not, sent with its
    `intrinsic_gas` as the limit: it runs (out of gas in the approve: a failed transaction). With
    one gas less, Anvil 1.7.1 takes it into its pool and drops it when it mines: it is never
    mined (and a sync send of it answers "Transaction confirmation timeout" after 30 s). revm
    (pyrevm 0.3.7) checks only the standard cost, not EIP-7623's calldata floor: it refuses a
    call under the standard cost and runs one between the two, which a node never would. So
    the fuzz sizes a call by `intrinsic_gas`, the node's rule, not by what revm lets through."""
    chain, _, token, people = pair
    amount = 2**256 - 1 if "11" in spender else 0
    data = chain.calldata(token, "approve", spender, amount)
    zeros, others = data.count(0), len(data) - data.count(0)
    least = intrinsic_gas(data)
    assert least == 21_000 + 10 * (zeros + 4 * others)  # the floor: above the standard cost
    standard = 21_000 + 4 * zeros + 16 * others
    snapshot = chain.snapshot()
    try:
        with pytest.raises(Revert):  # run, and out of gas in the approve
            chain.transact(token, "approve", people[0], spender, amount, gas=least)
        if isinstance(chain, RevmBackend):
            with pytest.raises(RuntimeError) as refused:
                chain.transact(token, "approve", people[0], spender, amount, gas=standard - 1)
            assert not isinstance(refused.value, Revert)
            with pytest.raises(Revert):  # revm runs it: a node would not
                chain.transact(token, "approve", people[0], spender, amount, gas=least - 1)
            return
        tx = {"from": people[0], "to": token, "data": "0x" + data.hex(), "gas": hex(least - 1)}
        dropped = chain.rpc("eth_sendTransaction", [tx])
        chain._pool_settled()
        chain.transact(token, "transfer", people[0], people[1], 0)  # the next block
        assert chain.rpc("eth_getTransactionReceipt", [dropped]) is None
    finally:
        chain.revert_to(snapshot)


def test_revert_to__a_transaction_still_in_anvils_pool__undone_not_mined_after(artifacts):
    """A revert while Anvil still holds the last transaction in its pool (sent without waiting
    here; after a sync send, until its node service has seen the block finished): the backend
    waits for the pool to empty, so the transfer is undone and never mined again after the
    revert. Twenty times, since the race is one of timing (without the wait, a transfer sent
    just before the revert was on the chain after it)."""
    people = [actor_address("pool-test", i) for i in range(2)]
    with Anvil(GENESIS) as node:
        chain = ChainBackend(node.url, artifacts[0], artifacts[1])
        chain.rpc_batch([("anvil_setBalance", [who, hex(10**24)]) for who in people])
        token = chain.deploy("TestToken", people[0], "Test", "TST", 18)
        chain.transact(token, "mint", people[0], people[0], 100 * WAD)
        data = "0x" + chain.calldata(token, "transfer", people[1], WAD).hex()
        for _ in range(20):
            snapshot = chain.snapshot()
            chain.rpc("eth_sendTransaction", [{"from": people[0], "to": token, "data": data}])
            chain.revert_to(snapshot)
            chain.transact(token, "mint", people[0], people[0], 1)  # the next block
            assert chain.view(token, "balanceOf", people[1]) == 0


def _block_number(chain) -> int:
    if isinstance(chain, RevmBackend):
        return chain.block_number
    return int(chain.rpc("eth_blockNumber", []), 16)


def _both(pair, txs):
    chain, model, _, _ = pair
    return chain.transact_block(txs), model.transact_block(txs)


def _balances(pair):
    chain, model, token, people = pair
    on_chain = chain.views(
        [(token, "balanceOf", (who,)) for who in people] + [(token, "totalSupply", ())]
    )
    in_model = [model_value(model, token, "balanceOf", (who,)) for who in people] + [
        model_value(model, token, "totalSupply", ())
    ]
    return on_chain, in_model


def test_transact_block__mixed_senders_and_reverts__one_block_in_order_same_outcomes_as_the_model(
    pair,
):
    chain, model, token, (owner, alice, bob, carol) = pair
    txs = [
        (token, "mint", owner, (alice, 100 * WAD)),
        (token, "transfer", alice, (bob, 30 * WAD)),
        (token, "transfer", bob, (carol, 50 * WAD)),  # bob holds 30: reverts, moves nothing
        (token, "transfer", bob, (carol, 30 * WAD)),
        (token, "mint", alice, (alice, WAD)),  # alice may not mint: reverts
    ]
    block_before = _block_number(chain)
    on_chain, in_model = _both(pair, txs)
    assert [o.ok for o in on_chain] == [True, True, False, True, False]
    assert on_chain == in_model  # success, revert reason and every event, per transaction
    assert on_chain[2].reason and on_chain[4].reason == "erc20: access is denied"
    assert [e.name for e in on_chain[1].events] == ["Transfer"]
    # one block holding the five, in the order sent, at one time on both sides
    assert _block_number(chain) == block_before + 1
    assert chain.last_block_time == model.last_block_time
    if isinstance(chain, ChainBackend):
        block = chain.rpc("eth_getBlockByNumber", ["latest", False])
        assert len(block["transactions"]) == 5
        assert int(block["timestamp"], 16) == chain.last_block_time
    chain_balances, model_balances = _balances(pair)
    assert chain_balances == model_balances == [0, 70 * WAD, 0, 30 * WAD, 100 * WAD]


def test_transact_block__block_times__follow_the_set_time_then_one_second_per_block(pair):
    chain, model, token, (owner, alice, bob, _) = pair
    start = chain.last_block_time + 600
    chain.set_next_block_time(start)
    model.set_next_block_time(start)
    _both(pair, [(token, "transfer", alice, (bob, WAD)), (token, "transfer", bob, (alice, WAD))])
    assert chain.last_block_time == model.last_block_time == start
    _both(pair, [(token, "approve", alice, (bob, WAD))])
    assert chain.last_block_time == model.last_block_time == start + 1
    # a transaction in a block of its own (transact) comes one second later still
    chain.transact(token, "transfer", alice, bob, WAD)
    model.transact(token, "transfer", alice, bob, WAD)
    assert chain.last_block_time == model.last_block_time == start + 2
    assert chain.transact_block([]) == model.transact_block([]) == []
    assert chain.last_block_time == model.last_block_time == start + 2
    chain_balances, model_balances = _balances(pair)
    assert chain_balances == model_balances


# ---------------------------------------------------------------- return decoders

_VALUES = {
    "uint256": st.integers(0, 2**256 - 1),
    "int256": st.integers(-(2**255), 2**255 - 1),
    "bool": st.booleans(),
    "address": st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
    "bytes32": st.binary(min_size=32, max_size=32),
    "bytes4": st.binary(min_size=4, max_size=4),
    "uint8": st.integers(0, 255),
    "int16": st.integers(-(2**15), 2**15 - 1),
    "uint256[]": st.lists(st.integers(0, 2**256 - 1), max_size=5),
}
_SHAPES = [
    ["uint256"],
    ["int256"],
    ["bool"],
    ["address"],
    ["uint256", "address"],
    ["bytes32"],
    ["uint256[]"],
    ["(uint256,int256,bool,address)"],
    ["(uint256,uint256)", "bool"],
    ["bytes32", "address", "uint8"],
    ["(bytes32,address)", "bytes4", "int16"],
]


def _values(types: list[str]):
    parts = []
    for t in types:
        if t.startswith("("):
            parts.append(st.tuples(*(_VALUES[x] for x in t[1:-1].split(","))))
        else:
            parts.append(_VALUES[t])
    return st.tuples(*parts)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_return_decoder__any_shape__equals_eth_abi(data):
    types = data.draw(st.sampled_from(_SHAPES))
    encoded = abi_encode(types, list(data.draw(_values(types))))
    expected = tuple(python_value(t, v) for t, v in zip(types, abi_decode(types, encoded)))
    assert return_decoder(types)(encoded) == (expected[0] if len(expected) == 1 else expected)


# arguments as a caller may pass them: valid, out of range, of another Python type, an address in
# lower case, checksummed, badly checksummed or too short, bytes shorter or longer than the type
_ANY_ARGUMENT = st.one_of(
    st.integers(-(2**256), 2**257),
    st.sampled_from([0, 1, -1, 255, 256, 2**255, 2**256 - 1, 2**256, -(2**255), -(2**255) - 1]),
    st.booleans(),
    st.binary(max_size=33),
    st.sampled_from(
        [
            "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
            "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
            "0x90F79bf6EB2c4f870365E785982E1f101E93b907",
            "0x90F79bf6EB2c4f870365E785982E1f101E93B906",
            "0x90f79bf6eb2c4f870365e785982e1f101e93b9",
            "ETH-A",
        ]
    ),
    st.none(),
)
_INPUTS = ["uint256", "int256", "uint8", "int16", "bool", "address", "bytes32", "bytes4"]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_static_encoder__any_arguments__eth_abis_bytes_or_its_error(data):
    """The direct encoder of transactions' arguments (offchain/backends/abi.py) gives eth_abi's
    bytes for whatever it is given, and raises where eth_abi raises (the same error: it asks
    eth_abi for every value it does not write itself)."""
    types = data.draw(st.lists(st.sampled_from(_INPUTS), min_size=1, max_size=4))
    args = tuple(data.draw(st.one_of(_values(types), st.tuples(*[_ANY_ARGUMENT] * len(types)))))
    encode = static_encoder(types)
    for _ in range(2):  # the second time from what the first cached (addresses)
        try:
            expected = abi_encode(types, list(args))
        except Exception as exc:  # noqa: BLE001 - whatever eth_abi raises, the encoder must
            with pytest.raises(type(exc)):
                encode(args)
            continue
        assert encode(args) == expected


def test_batch_read__an_array_result_the_reader_may_have_cut__refused_not_zero_padded():
    """The BatchReader returns at most 256 bytes of a result: a uint256[] takes two words for its
    offset and length, so 6 ids fill them and a 7th is cut. eth_abi would pad the cut data with
    zeros (seven running auctions read as 1..6 and 0), so a batched read of 256 bytes or more is
    refused (even 6 ids, which may be whole); a plain call decodes any length. Static one-word
    results are not affected."""
    ids = AbiFunction(b"\0" * 4, [], ["uint256[]"])
    six = abi_encode(["uint256[]"], [list(range(1, 6))])
    assert len(six) == 224 and ids.read_decode(six) == (1, 2, 3, 4, 5)
    seven = abi_encode(["uint256[]"], [list(range(1, 8))])
    with pytest.raises(ValueError, match="may be cut short by the BatchReader"):
        ids.read_decode(seven[:256])
    assert ids.decode(seven) == tuple(range(1, 8))
    word = AbiFunction(b"\0" * 4, [], ["uint256"])
    assert word.read_decode(abi_encode(["uint256"], [7])) == 7


def test_views__one_read_of_a_batch_reverts__the_error_names_that_read(artifacts):
    """A batch of reads fails as a whole when one reverts; the error names the read (a keeper
    logged `RpcError: eth_call ... execution reverted, data 0x` without saying which: issue 34)."""
    owner, other = actor_address("view-test", 0), actor_address("view-test", 1)
    with Anvil(GENESIS) as node:
        chain = ChainBackend(node.url, artifacts[0], artifacts[1])
        chain.fund([owner], 10**24)
        token = chain.deploy("TestToken", owner, "Test", "TST", 18)
        reads = [(token, "totalSupply", ()), (token, "transfer", (other, 1))]  # the reader has 0
        with pytest.raises(RpcError) as refused:
            chain.views(reads)
        short = f"{other[:6]}…{other[-4:]}"
        assert refused.value.method == f"eth_call TestToken.transfer({short}, 1)"
        assert "TestToken.transfer(" in str(refused.value)
        # the one line a bot logs: the call and its reason (issue 65: "RpcError: eth_call ...
        # execution reverted" named neither)
        reason = describe(refused.value)
        assert reason.startswith(f"eth_call TestToken.transfer({short}, 1) reverted: ")
        assert "{" not in reason and "0x08c379a0" not in reason
        # one plain eth_call names its call the same way
        with pytest.raises(RpcError) as alone:
            chain.call(token, "transfer", other, 1)
        assert describe(alone.value) == reason
        assert chain.views(reads[:1]) == [0]


def test_call_label__a_bytes32_name_an_address_and_a_long_list__short():
    address = "0x" + "ab" * 20
    assert short_value(b"ETH-A".ljust(32, b"\0")) == "ETH-A"
    assert call_label("Backstop", "cover", (b"ETH-A".ljust(32, b"\0"), 12)) == (
        "Backstop.cover(ETH-A, 12)"
    )
    assert short_value(address) == "0xabab…abab"
    assert short_value(list(range(10))) == "[0, 1, 2, … 10 in all]"
    assert short_value(b"\x01" * 40) == "<40 bytes>"


def test_describe__a_revert_and_another_error__one_line_each():
    data = "0x08c379a0" + abi_encode(["string"], ["backstop: nothing to cover"]).hex()
    reverted = RpcError(
        "eth_call Backstop.cover(ETH-A, 12)",
        {"code": 3, "message": "execution reverted: backstop: nothing to cover", "data": data},
    )
    assert describe(reverted) == (
        "eth_call Backstop.cover(ETH-A, 12) reverted: backstop: nothing to cover"
    )
    bare = RpcError(
        "eth_call Backstop.cover(ETH-A, 12)", {"code": 3, "message": "execution reverted"}
    )
    assert describe(bare) == "eth_call Backstop.cover(ETH-A, 12) reverted: no reason"
    other = RpcError("eth_getLogs", {"code": -32005, "message": "query returned more than 10000"})
    assert describe(other) == "eth_getLogs: query returned more than 10000 (code -32005)"
