"""Risk sweeps: many seeded crash replays over a grid of parameters, on a process pool or a Dask
cluster, with VaR of bad debt per parameter cell and sampled runs re-checked on chain.

spec.py      the sweep's definition (scenarios, seeds, grid) from the command line or a file,
             validated; the plan of cells and runs
runs.py      one run in a worker: the scenario reseeded, the model run, its row of figures
executors.py where runs execute: a process pool, a Dask LocalCluster or an existing scheduler
store.py     the output directory: the sweep's identity, one file per finished run, the results
stats.py     per cell: mean, VaR, expected shortfall with bootstrap intervals; the best cell
verify.py    sampled runs again on a private Anvil, reconciled with the model
report.py    summary.md, summary.html and the plots
runner.py    all of it in order (`ape run sweep`, scripts/_sweep.py, is a thin CLI over it)
"""
