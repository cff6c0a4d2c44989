"""`ape run market`: play a scenario's market on the live devnet (prices, pool, time).

    ape run market --scenario black-thursday-2020 --speed 600       # 10-minute bars, 1 s each
    ape run market --scenario may-2021 --vaults 200 --speed 60 --rpc http://127.0.0.1:8545

First returns the oracle to the devnet's configured price (a run before may have left it at a
crash's low, or stale), opens the scenario's vault population on the devnet (those not open),
then plays its price path relative to the configured price: oracle posts and pokes, arbitrage
of the collateral pool, and time moved forward bar by bar (offchain/live/market.py). Where the
scenario's market is open (the built-in days) it plays the lab's outside venue too
(offchain/live/venue.py): an OutsideVenue on the devnet, synced every bar with the lab's venue,
where the taker bot's flash takes may sell; `--outside none` keeps the pool only. So it can
be run again and again on one devnet. Devnets only (it impersonates the vault owners). Bad
input: one line, exit status 2, nothing sent; a transaction the chain refuses: one line, exit 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from offchain.live.market import (
    Bar,
    MarketError,
    Pacer,
    checkpoint_place_problem,
    default_checkpoints,
    differences,
    find_bots,
    impersonating,
    open_vaults,
    play,
    set_price,
    stamp_blocks_by_interval,
    wait_for_takers,
)
from offchain.live.node import Node, NodeUnavailable, unanswered
from offchain.live.outcome import OutcomeBook
from offchain.live.record import (
    RecordError,
    load_record,
    node_record_path,
    record_option_problem,
    verify,
)
from offchain.live.venue import (
    OUTSIDE,
    DevnetVenue,
    MarketSession,
    ensure_venue,
    lab_venue,
    write_session,
)
from offchain.model.errors import Revert
from offchain.sim.scenario.actors import argument_problems
from offchain.sim.scenario.load import (
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    scenario_option_problem,
)
from offchain.sim.scenario.population import population_plans
from offchain.sim.scenario.timeline import bar_times
from offchain.system.cli import FiniteFloatRange, failing, one_line_usage

fail = failing("market")


def _needs_the_configured_price(chain, t) -> bool:
    """The oracle's current price is not the configured one, or is older than its max age (the
    spotter would read it as invalid): the population is opened at the configured price."""
    current, posted_at, max_age = chain.views(
        [(t.oracle, "current_price", ()), (t.oracle, "current_time", ()), (t.oracle, "max_age", ())]
    )
    chain.sync()
    return current != t.config.initial_price or chain.next_block_time > posted_at + max_age


def _problems(ctx: click.Context) -> list[str]:
    """market's checks that need no node (of the options click converted: `ctx.params`), one
    line per mistake: the --rpc URL, the deployment record given, the scenario with --vaults.
    Called first by the command, and by one_line_usage where click refused a value too, so every
    mistake is named in one run (a dead node is named after these)."""
    p, problems = ctx.params, []
    rpc, deployment_path = p.get("rpc"), p.get("deployment_path")
    if rpc is not None:
        try:
            Node(rpc, timeout=10, patience=5)
        except ValueError:  # not http(s), no host, a port out of range
            problems.append(f"--rpc {rpc!r} is not an http(s) JSON-RPC URL (http://HOST:PORT)")
    places = list(p.get("checkpoint_places") or ())
    for place in dict.fromkeys(places):
        problem = checkpoint_place_problem(Path(place))
        if problem:
            problems.append(problem)
        if places.count(place) > 1:
            problems.append(
                f"--checkpoints {place} given {places.count(place)} times: give it once"
            )
    if deployment_path is not None:
        problem = record_option_problem(deployment_path)
        if problem:
            problems.append(problem)
    # --vaults' own mistake, named whatever the scenario's (it was named only once the scenario
    # loaded); the scenario is then loaded without it
    vaults_problems = argument_problems(vaults=p.get("vaults"))
    problems += vaults_problems
    scenario_spec = p.get("scenario_spec")
    if scenario_spec is not None:
        problem = scenario_option_problem(scenario_spec)
        if problem:
            problems.append(problem)
        else:
            try:
                load_scenario(scenario_spec, vaults=None if vaults_problems else p.get("vaults"))
            except ScenarioError as exc:
                problems += str(exc).splitlines()
    return problems


@click.command(cls=one_line_usage("market", _problems))
@click.option(
    "--scenario",
    "scenario_spec",
    default="black-thursday-2020",
    show_default=True,
    help=f"A built-in scenario ({', '.join(builtin_scenarios())}) or a scenario file.",
)
@click.option(
    "--speed",
    # finite: a NaN pause was a ValueError traceback in time.sleep after the population had been
    # opened, an infinite speed (inf, 1e400) played the bars with no pause at all
    type=FiniteFloatRange(min=0, min_open=True),
    default=600,
    show_default=True,
    help="Chain s per wall s.",
)
@click.option("--vaults", type=int, default=None, help="Vaults to open [the scenario's].")
@click.option("--rpc", default="http://127.0.0.1:8545", show_default=True)
@click.option("--deployment", "deployment_path", default=None, help="The deployment record.")
@click.option(
    "--pace",
    type=click.Choice(["bots", "clock"]),
    default="bots",
    show_default=True,
    help="bots: each bar begins once every running bot that sends has processed the chain's "
    "head with nothing pending (--speed a floor on a bar's wall time); clock: at --speed alone.",
)
@click.option(
    "--checkpoints",
    "checkpoint_places",
    multiple=True,
    help="The bots' checkpoint files, or a directory of them, to pace by [default: the bots' "
    "own default directory, .keepers/<chain id>/<deployment>, or BACKSTOP_KEEPERS_DIR's].",
)
@click.option(
    "--bot-timeout",
    type=FiniteFloatRange(min=0, min_open=True),
    default=300,
    show_default=True,
    help="Seconds a bar waits for the bots before it goes on (and is counted late).",
)
@click.option(
    "--outside",
    type=click.Choice(["scenario", "none"]),
    default="scenario",
    show_default=True,
    help="scenario: the lab's outside venue where the scenario's market is open (an "
    "OutsideVenue on the devnet, synced each bar; flash takes may sell on it); none: the "
    "keepers' pool only.",
)
def cli(
    scenario_spec,
    speed,
    vaults,
    rpc,
    deployment_path,
    pace,
    checkpoint_places,
    bot_timeout,
    outside,
):
    """Play a scenario's prices, pool moves and time on the devnet."""
    ctx = click.get_current_context()
    problems = _problems(ctx)
    if problems:
        # a dead node too, named with them (asked once), when --rpc was given: the default
        # URL's node is the environment's, not a mistake of this command line
        given = ctx.get_parameter_source("rpc") is not click.core.ParameterSource.DEFAULT
        fail("\n".join([*problems, *filter(None, [unanswered(rpc) if given else None])]))
    node = Node(rpc, timeout=10, patience=5)
    scenario = load_scenario(scenario_spec, vaults=vaults)
    try:
        record_file = Path(deployment_path) if deployment_path else node_record_path(node)
        record = load_record(record_file)
        verify(record, node)
        client = str(node.rpc("web3_clientVersion")).lower()
        if "anvil" not in client and "hardhat" not in client:
            raise MarketError(
                f"{rpc} is not a devnet (Anvil or Hardhat Network): the market driver moves time"
            )
    except NodeUnavailable:
        fail(f"no JSON-RPC node answers at {rpc} (start one: make devnet)")
    except (RecordError, MarketError) as exc:
        fail(str(exc))
    name = scenario.system.collateral[0].name
    if name not in record.types:
        fail(f"the scenario's collateral {name} is not deployed (types: {', '.join(record.types)})")
    from offchain.backends import ChainBackend, project_code

    chain = ChainBackend(rpc, *project_code(), dev_node=False)
    chain.names.update(record.contract_names())
    d = record.deployment()
    impersonating(chain, d.governance, d.feeder)
    t = d.types[name]
    c = t.config
    plans = population_plans(
        scenario.vaults,
        scenario.seed,
        c.initial_price,
        c.token_decimals,
        c.dust,
        size=c.size_margin,
    )
    places = [Path(p) for p in checkpoint_places] or [
        default_checkpoints(record.chain_id, record.identity)
    ]
    bots, silent = find_bots(places)
    where = ", ".join(str(p) for p in places)
    pacer = Pacer(chain, bots, timeout=bot_timeout, pacing=pace == "bots") if bots else None
    if pacer is not None:
        click.echo(
            f"market: {'paced by' if pacer.pacing else 'not paced (--pace clock); watching'} "
            f"{len(bots)} running bots ({', '.join(b.name for b in bots)}; in {where})"
            + (f"; not waited for, they send nothing: {', '.join(silent)}" if silent else "")
        )
    else:
        click.echo(
            f"market: no running bot that sends found (checkpoints in {where}): the bars are "
            "played at --speed alone"
        )
    # paced: the chain's time moves only as the session moves it, from its first block (the
    # vaults' opening included: their fees accrue from the same second in every session)
    stamped = pacer is not None and pacer.pacing and stamp_blocks_by_interval(chain, True)
    if pacer is not None and pacer.pacing and not stamped:
        click.echo(
            "market: Hardhat Network stamps the bots' blocks with the wall clock: the seconds "
            "the bars wait for them move the chain's time too"
        )
    first_block = int(chain.rpc("eth_blockNumber", []), 16) + 1  # the run's first
    times, closes = bar_times(scenario)
    base = t.config.initial_price
    bars = [Bar(tm, base * c // closes[0]) for tm, c in zip(times, closes)]
    played: list[Bar] = []
    venue = None
    lab = lab_venue(scenario) if outside == "scenario" else None
    fundamentals = [b.price for b in bars]
    # the session as `ape run reconcile` rebuilds its venue (live/venue.py): kept beside the
    # record as it starts; where it plays no venue, why (reconcile marks in the pool then)
    why = (
        "--outside none"
        if outside == "none"
        else f"{scenario.name}'s market is closed (no outside venue)"
        if lab is None
        else "the bars' blocks did not carry the bar's time"
        if not stamped
        else ""
    )
    address, deployed = None, False
    if lab is not None and not stamped:
        click.echo(
            "market: outside venue: off: the bars' blocks do not carry the bar's time (a session "
            "paced by running bots on Anvil does), and a venue's sync covers the blocks of its "
            "time only: flash takes sell into the keepers' pool"
        )
    elif lab is not None:
        address, deployed = ensure_venue(
            chain, t, d.stablecoin, record_file, record.chain_id, record.identity
        )
    session = MarketSession.of(scenario, name, address, first_block, list(times), fundamentals, why)
    write_session(record_file, record.chain_id, record.identity, session)
    if address is not None:
        venue = DevnetVenue(chain, d, t, address, session, [p.owner for p in plans])
        click.echo(
            f"market: outside venue {address} ({'deployed' if deployed else 'kept'}): the lab's "
            f"venue of {scenario.name}, synced every bar; flash takes may sell on it"
        )
        assert pacer is not None  # stamped: paced by running bots
        for line in wait_for_takers(chain, pacer, name, address, bot_timeout):
            _say(line)
    for line in differences(scenario, venue, pacer):
        _say(line)

    def show(k: int, bar: Bar) -> None:
        played.append(bar)
        click.echo(f"bar {k + 1}/{len(bars)}: price {bar.price / 10**18:,.2f}")

    try:
        try:
            if _needs_the_configured_price(chain, t):
                click.echo(
                    f"market: returning the oracle to the configured price "
                    f"{c.initial_price / 10**18:,.2f} first"
                )
                set_price(chain, d, t, c.initial_price)
            # an open market's borrowers draw to the outside, which pays the venue's till
            holder = OUTSIDE if venue is not None else None
            opened = open_vaults(chain, d, t, plans, holder)
            click.echo(f"market: {opened} vaults opened ({len(plans) - opened} already open)")
            phase = play(
                chain, d, t, bars, speed, on_bar=show, pacer=pacer, on_wait=_say,
                stamped=stamped, venue=venue,
            )  # fmt: skip
            if phase is not None:
                click.echo(
                    f"market: oracle phase {phase:,} s (the first poke could be sent that long "
                    f"after the first bar: the lab's --oracle-phase {phase})"
                )
        except KeyboardInterrupt:
            click.echo("market: stopped")
        except Revert as exc:
            click.echo(f"market: the devnet refused a transaction: {exc}", err=True)
            sys.exit(1)
    finally:
        if stamped:
            stamp_blocks_by_interval(chain, False)
    if pacer is not None:
        click.echo(f"market: {pacer.summary()}")
    if venue is not None:
        click.echo(f"market: {venue.facts()}")
    _summary(chain, record, d, name, first_block, played, venue)


def _say(line: str) -> None:
    click.echo(f"market: {line}")


def _summary(
    chain, record, d, name: str, first_block: int, played: list, venue: DevnetVenue | None
) -> None:
    """The run's outcome table (offchain/live/outcome.py): its blocks' events, the state at the
    head marked at the market's last price as the chain has it (the oracle's last post: the last
    bar's price, unless the oracle's bound on a post held it back, which is then said)."""
    last = int(chain.rpc("eth_blockNumber", []), 16)
    if last < first_block:
        return
    start = chain.rpc("eth_getBlockByNumber", [hex(first_block), False])
    book = OutcomeBook(d, since=int(start["timestamp"], 16))
    book.read_logs(chain, record.first_block, last)
    marks = {name: venue.mark()} if venue is not None else {}
    outcome = book.outcome(chain, {n: m for n, m in marks.items() if m is not None})
    for line in outcome.lines(f"of this run (blocks {first_block}-{last})"):
        click.echo(line)
    table = outcome.session_table()
    if table:
        click.echo("session table (docs/keepers.md):")
        for line in table:
            click.echo(f"  {line}")
    posted = chain.view(d.types[name].oracle, "source_price")
    last = venue.prices[-1] if venue is not None and venue.prices else None
    if played and posted != (last or played[-1].price):
        click.echo(
            f"  (the last bar's price {(last or played[-1].price) / 10**18:,.2f} is not the "
            "oracle's last "
            f"post {posted / 10**18:,.2f}: the oracle's bound on a post held it back; the marks "
            "are at the post, as the chain has it)"
        )
