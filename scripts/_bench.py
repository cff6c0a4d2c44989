"""`ape run bench`: gas and throughput figures, measured on Anvil, written to bench/results.json
(merged with keys other benchmarks wrote) and bench/results.md.

Gas figures are the gas used by one transaction, including the 21,000 base; every transaction
runs in lockstep with the off-chain model, so a benchmark that drifted from the model fails.
What each figure measures: offchain/bench/figures.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from eth_utils import to_checksum_address

from offchain.backends import ChainBackend, project_code
from offchain.backends.anvil import keep_ape_anvil_history_in_memory
from offchain.bench.ceiling import CEILING_SCENARIOS, CEILING_VAULTS, ceiling_figures
from offchain.bench.ceiling_plot import ceiling_plot
from offchain.bench.figures import (
    DRAIN_SCENARIOS,
    MARKET_NOTE,
    REPORT,
    RESULTS,
    ROOT,
    SCALE_SUFFIXES,
    SCALE_VAULTS,
    devnet_figures,
    drained_keys,
    fuzz_figures,
    hardhat_devnet_figures,
    keeper_figures,
    market_figures,
    node_figures,
    phase_figures,
    prefetch,
    record_figures,
    scale_figures,
    scale_key,
    simulation_figures,
    sweep_figures,
    timed_run,
    write_results,
)
from offchain.bench.scale_plot import scale_plot
from offchain.sim.scenario.load import builtin_scenarios
from offchain.system.cli import failing
from offchain.testing.gas_scenarios import all_gas_figures

keep_ape_anvil_history_in_memory()  # before ape starts its node for this command

DEPTHS = ("fixed", "scaled")  # the scale study's market depths (figures.scale_runs)


def _write(
    figures: dict[str, float],
    steps: int | None,
    samples: dict[str, list[float]] | None,
    meta: dict[str, Any] | None = None,
    stale: Callable[[str], bool] | None = None,
) -> None:
    click.echo("\n".join(write_results(figures, steps, samples, meta, stale=stale)))
    click.echo(f"\nwritten: {RESULTS.relative_to(ROOT)}, {REPORT.relative_to(ROOT)}")


def _ceiling() -> tuple[dict[str, float], dict[str, Any]]:
    """The ceiling curve (offchain/bench/ceiling.py), its runs on every core."""
    return ceiling_figures(partial(timed_run, kept=True), prefetch=prefetch)


def _scale_of(names: tuple[str, ...]) -> None:
    """`--scale-only --scenario NAME ...`: the scale figures of these built-ins alone (every
    size, fixed and, at 100k, scaled depth, every phase; no market pairs), their kept runs
    reused; what they wrote before and no longer write goes, every other figure stays."""
    figures, scale_meta = scale_figures(names, market=False, kept=True)
    kept = json.loads(RESULTS.read_text()).get("_meta", {}) if RESULTS.exists() else {}
    for part in ("scale_limits", "phase_spreads"):
        scale_meta[part] = {**kept.get(part, {}), **scale_meta[part]}
    # the model's time record (sim.model_*: one run at a time) is --scale-only's, whole
    figures = {k: v for k, v in figures.items() if not k.startswith("sim.model_")}
    again = {
        prefix + suffix
        for prefix in (scale_key(n, v, d) for n in names for v in SCALE_VAULTS for d in DEPTHS)
        for suffix in SCALE_SUFFIXES
    }
    _write(figures, None, None, scale_meta, stale=lambda k: k in again)
    _plot_scale()


def _tails(meta: dict[str, Any]) -> set[tuple[str, int]]:
    """The ceiling curves' books run at one phase (past each day's first book over)."""
    return {
        (name, p["vaults"])
        for name, day in meta.get("ceiling_curves", {}).items()
        for p in day["central"]
        if not p["complete"]
    }


def _plot_ceiling() -> None:
    """bench/ceiling.png from the ceiling curves just written (offchain/bench/ceiling_plot.py)."""
    curves = json.loads(RESULTS.read_text()).get("_meta", {}).get("ceiling_curves", {})
    plot = ceiling_plot(curves)
    if plot is not None:
        click.echo(f"written: {plot.relative_to(ROOT)}")


def _plot_scale() -> None:
    """bench/scale.png from the scale figures just written (offchain/bench/scale_plot.py)."""
    plot = scale_plot(json.loads(RESULTS.read_text()))
    if plot is not None:
        click.echo(f"written: {plot.relative_to(ROOT)}")


ONLY = (
    "gas_only",
    "sim_only",
    "keeper_only",
    "devnet_only",
    "hardhat_devnet_only",
    "nodes_only",
    "sweep_only",
    "scale_only",
    "phases_only",
    "drain_only",
    "ceiling_only",
    "market_only",
    "fuzz_only",
)


class _OptionsFirst(ConnectedProviderCommand):
    """Ape's connected command, with bench's options checked before Ape starts its node: a
    value click refuses is one line (click's usage block was three), and two -only options
    (one ran and rewrote the tracked results, the other was ignored) are refused."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            failing("bench")(" ".join(x.strip() for x in exc.format_message().splitlines()))

    def invoke(self, ctx: click.Context) -> Any:
        only = ["--" + name.replace("_", "-") for name in ONLY if ctx.params.get(name)]
        if len(only) > 1:
            failing("bench")(f"{' and '.join(only)}: give one -only option at most")
        if ctx.params.get("scenarios") and not ctx.params.get("scale_only"):
            failing("bench")("--scenario: only with --scale-only")
        return super().invoke(ctx)


@click.command(cls=_OptionsFirst)
@click.option("--gas-only", is_flag=True, help="Only the gas per transaction (gas.*).")
@click.option("--sim-only", is_flag=True, help="Only the crash-replay figures (sim.*).")
@click.option("--keeper-only", is_flag=True, help="Only the live keeper figures (keeper.*).")
@click.option(
    "--devnet-only", is_flag=True, help="Only an idle devnet's CPU and writes (devnet.*)."
)
@click.option(
    "--hardhat-devnet-only",
    is_flag=True,
    help="Only the Hardhat devnet's idle cost and its journal's replay (devnet.hardhat_*).",
)
@click.option(
    "--nodes-only",
    is_flag=True,
    help="Only the replay on Anvil and on Hardhat, and their gas compared (nodes.*).",
)
@click.option("--sweep-only", is_flag=True, help="Only the sweep figures (sweep.*).")
@click.option(
    "--scale-only",
    is_flag=True,
    help="Only the model's time and memory at 1k, 10k and 100k vaults (sim.model_*_vaults_*).",
)
@click.option(
    "--phases-only",
    is_flag=True,
    help="Only the scale and open-market runs' insolvency over the oracle's phases, its median "
    "and worst (scale.*_insolvency_per_debt_median, _worst; no time measured).",
)
@click.option(
    "--drain-only",
    is_flag=True,
    help=f"Only the drained headline at 1k, 10k and 100k vaults of {', '.join(DRAIN_SCENARIOS)} "
    "(scale.*, the depth fixed): insolvency and the end-of-run mark per debt, time to clear, "
    "the drain's cost over the run's, the median and worst over the oracle's phases.",
)
@click.option(
    "--ceiling-only",
    is_flag=True,
    help=f"Only the ceiling curve (ceiling.*): {', '.join(CEILING_SCENARIOS)} at "
    f"{len(CEILING_VAULTS)} sizes from {CEILING_VAULTS[0]:,} to {CEILING_VAULTS[-1]:,} vaults, "
    "the depth fixed, drained, every oracle phase, the calibration's rows; the largest book "
    "under 1% at its worst phase; and the drained scale.* figures its runs include (as "
    "--drain-only). Its runs go on every core, and are kept (.cache/bench-runs) so a stopped run "
    "goes on where it was.",
)
@click.option(
    "--market-only",
    is_flag=True,
    help="Only the open market's cost against the closed one (market.*): Black Thursday at 1k "
    "and 100k vaults, open and closed, in pairs, undrained, and their oracle's phases.",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(builtin_scenarios()),
    help="With --scale-only: only this built-in's scale figures (again for more; no market "
    "pairs), its runs kept in .cache/bench-runs reused as --ceiling-only's are; the other "
    "built-ins' figures stay as written.",
)
@click.option(
    "--fuzz-only",
    is_flag=True,
    help="Only the fuzz throughput and the campaign and mutation records (fuzz.*, mutants.*).",
)
def cli(
    provider,
    gas_only,
    sim_only,
    keeper_only,
    devnet_only,
    hardhat_devnet_only,
    nodes_only,
    sweep_only,
    scale_only,
    phases_only,
    drain_only,
    ceiling_only,
    market_only,
    scenarios,
    fuzz_only,
):
    """Measure gas per transaction, differential-fuzz throughput, crash-replay times, the live
    liquidator's reaction and sweep throughput."""
    # (at most one -only option: _OptionsFirst)
    if keeper_only:
        _write(keeper_figures(), None, None)
        return
    if nodes_only:
        _write(node_figures(), None, None)
        return
    if devnet_only:
        _write(devnet_figures(), None, None)
        return
    if hardhat_devnet_only:
        _write(hardhat_devnet_figures(), None, None)
        return
    if sim_only:
        figures, samples = simulation_figures()
        _write(figures, None, samples)
        return
    if scale_only and scenarios:
        _scale_of(tuple(dict.fromkeys(scenarios)))
        return
    if scale_only:
        figures, scale_meta = scale_figures()
        _write(figures, None, None, scale_meta)
        _plot_scale()
        return
    if phases_only:
        figures, phases_meta = phase_figures()
        _write(figures, None, None, phases_meta)
        _plot_scale()
        return
    if drain_only or ceiling_only:
        ceiling, ceiling_meta = _ceiling() if ceiling_only else ({}, {})
        figures, scale_meta = scale_figures(
            DRAIN_SCENARIOS, scaled=False, market=False, kept=ceiling_only,
            one_phase=_tails(ceiling_meta),
        )  # fmt: skip
        # the other runs' limits and phase spreads stay (a part of the scale figures, measured
        # again)
        kept = json.loads(RESULTS.read_text()).get("_meta", {}) if RESULTS.exists() else {}
        for part in ("scale_limits", "phase_spreads"):
            scale_meta[part] = {**kept.get(part, {}), **scale_meta[part]}
        # the model's time record (sim.model_*: one run at a time, drained as the headline) is
        # --scale-only's
        figures = {k: v for k, v in figures.items() if not k.startswith("sim.model_")}
        again = drained_keys()  # what this run measured again: none of their old keys stay
        _write(
            {**figures, **ceiling}, None, None, {**scale_meta, **ceiling_meta},
            stale=lambda k: k in again or (ceiling_only and k.startswith("ceiling.")),
        )  # fmt: skip
        _plot_scale()
        if ceiling_only:
            _plot_ceiling()
        return
    if market_only:
        figures, spreads = market_figures()
        kept = json.loads(RESULTS.read_text()).get("_meta", {}) if RESULTS.exists() else {}
        # the other runs' phase spreads stay; the market's keys are this run's alone (one it no
        # longer writes does not outlive it), and so is their note
        meta = {
            "phase_spreads": {**kept.get("phase_spreads", {}), **spreads},
            "market_note": MARKET_NOTE,
        }
        _write(figures, None, None, meta, stale=lambda k: k.startswith("market."))
        return
    if sweep_only:
        figures, meta = sweep_figures()
        _write(figures, None, None, meta)
        return
    chain = ChainBackend(provider.uri, *project_code())
    roles = [str(to_checksum_address(a)) for a in chain.rpc("eth_accounts", [])]
    if gas_only:
        _write(dict(all_gas_figures(chain, roles)), None, None)
        return
    if fuzz_only:
        fuzz, steps, fuzz_meta = fuzz_figures(chain, roles)
        _write({**fuzz, **record_figures()}, steps, None, fuzz_meta)
        return
    gas: dict[str, float] = dict(all_gas_figures(chain, roles))
    fuzz, steps, fuzz_meta = fuzz_figures(chain, roles)
    gas.update(fuzz)
    gas.update(record_figures())
    figures, samples = simulation_figures()
    gas.update(figures)
    ceiling, ceiling_meta = _ceiling()
    gas.update(ceiling)
    # the ceiling's runs, not made again
    scale, scale_meta = scale_figures(kept=True, one_phase=_tails(ceiling_meta))
    gas.update(scale)
    gas.update(keeper_figures())
    gas.update(node_figures())
    gas.update(devnet_figures())
    gas.update(hardhat_devnet_figures())
    sweep, sweep_meta = sweep_figures()
    gas.update(sweep)
    _write(
        gas, steps, samples, {**sweep_meta, **scale_meta, **fuzz_meta, **ceiling_meta},
        stale=lambda k: k.startswith(("scale.", "ceiling.", "market.")),
    )  # fmt: skip
    _plot_scale()
    _plot_ceiling()
