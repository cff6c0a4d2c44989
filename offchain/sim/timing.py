"""One model run of a built-in scenario, timed, in a process of its own: what `make bench`
measures for the scale figures (`sim.model_*_vaults_s`, `sim.model_*_vaults_peak_mib`).

    python -m offchain.sim.timing black-thursday-2020 100000

prints one JSON line: the run's seconds (the simulation alone, as a sweep runs it: no full-state
reads, no report), the process's peak resident memory [MiB] and the run's headline counts."""

from __future__ import annotations

import json
import resource
import sys
import time


def _peak_kib() -> int:
    """This process's peak resident memory [KiB]: VmHWM, which starts again at exec (getrusage's
    ru_maxrss keeps the peak of the process that forked this one, a large `ape` say)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: KiB on Linux only


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m offchain.sim.timing SCENARIO VAULTS", file=sys.stderr)
        return 2
    from offchain.sim.driver import simulate
    from offchain.sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(argv[0], vaults=int(argv[1]))
    except ScenarioError as exc:
        print(f"timing: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    result = simulate(scenario, "model", full_check_every=None)
    seconds = time.perf_counter() - start
    peak_kib = _peak_kib()
    f = result.facts
    print(
        json.dumps(
            {
                "s": round(seconds, 2),
                "peak_mib": round(peak_kib / 1024),
                "transactions": f["transactions"],
                "realized_bad_debt": round(f["realized_bad_debt"], 2),
                "insolvency": round(f["insolvency"], 2),
                "unsafe_vaults_left": f["unsafe_vaults_left"],
                "open_auctions": f["open_auctions"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
