# Backstop: every target bootstraps what it needs, idempotently.
#   make run    replay Black Thursday on Anvil and in the model, reconcile, write the report
#   make devnet a persistent local devnet with Backstop deployed (deployments/<chain id>-<genesis>.json);
#               NODE=hardhat for Hardhat Network
#   make keepers / make market / make reconcile  the devnet's bots, a crash on it, the check
#   make test   the whole test suite (bounded fuzz profile), in TEST_SHARDS=2 processes
#   make test-fast  the inner loop: the suite without its slow, live and fuzz tests
#   make test-hardhat  the lockstep contract tests on Hardhat Network (a subset; HARDHAT_TESTS)
#   make fuzz   a differential fuzz campaign on revm on every core -> bench/fuzz-campaign.json
#   make mutate planted bugs in contracts and twins, counted -> bench/mutants.json
#   make bench  gas and throughput figures -> bench/results.json, bench/results.md
#   make lint   ruff (lint + format check), mamushi (Vyper format check), pyright (basic)
#   make format apply ruff's and mamushi's formatting
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# vyper (pip) and anvil (npm) must be found on PATH by ape-vyper and ape-foundry.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# the linters live in their own environment: mamushi pins a click that eth-ape cannot share
LINT_VENV := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
PY_SOURCES := offchain scripts tests
VYPER_LINE_LENGTH := 100

.PHONY: help setup run deploy devnet keepers market reconcile test test-fast test-hardhat fuzz mutate bench gas-check lint format clean

help:
	@echo "make run | make deploy | make devnet | make keepers | make market | make reconcile | make test | make test-fast | make test-hardhat | make fuzz | make mutate | make bench | make gas-check | make lint | make format | make setup | make clean"

# a line before each install says what it is and how long (pip and npm are quiet for minutes);
# each runs only when its stamp is older than its pins, so a second command prints none of it
$(PY_STAMP): pyproject.toml constraints.txt
	@echo "setup: installing the pinned Python dependencies (Ape, Vyper 0.4.3, pandas, Dask, ...)" \
	  "into $(VENV): a couple of minutes, quiet until done; only once (again when the pins change)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# (the grep drops a harmless warning this machine's pip configuration prints per package)
	@{ $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e . 2>&1; \
	  echo $$? > $(VENV)/.pip-status; } | grep -v "is ignored: it is neither" || true
	@exit $$(cat $(VENV)/.pip-status)
	@echo "setup: $(VENV) is ready"
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@echo "setup: installing Anvil, Hardhat and pyright (package.json) into node_modules: about a" \
	  "minute; only once (again when the pins change)"
	@npm install --no-audit --no-fund --loglevel=error
	@anvil --version | head -n1
	@echo "hardhat $$(hardhat --version)"
	@touch $@

$(LINT_STAMP): requirements-lint.txt
	@test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	{ $(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lint.txt 2>&1; \
	  echo $$? > $(LINT_VENV)/.pip-status; } | grep -v "is ignored: it is neither" || true
	@exit $$(cat $(LINT_VENV)/.pip-status)
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

run: setup
	ape run simulate --scenario black-thursday-2020 --out reports/black-thursday-2020

deploy: setup
	ape run deploy

# NODE: anvil (default) or hardhat (Hardhat Network, its chain kept in a journal: docs/nodes.md)
# DEVNET_ARGS: e.g. --port 8546 --state /tmp/devnet.json (ape run devnet --help)
NODE ?= anvil
devnet: setup
	ape run devnet --node $(NODE) $(DEVNET_ARGS)

# the devnet's four keeper bots in one terminal (JSON lines; offchain/live/make_keepers.py).
# KEEPER_ARGS and the node are checked first, as each bot (keeper --check, every check a bot runs
# before it acts: the record against the node, --type, the ports, its checkpoint; the taker
# first, so that a mistake of all four is one line, not four, and no bot starts; on a terminal a
# status line says which check runs). KEEPER_ARGS go to every bot: --role, --account and
# --metrics-port-offset there are refused (each bot has its own); a bot ignores there what is
# another role's (--min-profit is the taker's, --webhook and --summary-every the notifier's; the
# notifier sends nothing: it ignores --gas and --stuck-*). Ctrl-C on the terminal stops all four
# and make exits 0 (the bots run in the terminal's foreground, make does not see the Ctrl-C);
# when one stops by itself or is killed (a bot that cannot start: one line, exit 2), the others
# are stopped, a line names it and its status, and make fails (exit 2, as for any failed recipe).
# KEEPER_ARGS: e.g. --rpc URL (ape run keeper --help); with --metrics-port BASE each
# role serves on its own port, BASE + its offset: liquidator +0, taker +1, backstop +2,
# notifier +3 (--metrics-port-offset). KEEPER: the command (python -m offchain.live.cli, the same).
KEEPER ?= ape run keeper
keepers: setup
	@$(BIN)/python -m offchain.live.make_keepers --keeper "$(KEEPER)" -- $(KEEPER_ARGS)

# MARKET_ARGS: e.g. --scenario may-2021 --speed 1200 (ape run market --help)
MARKET_ARGS ?= --scenario black-thursday-2020 --speed 600
market: setup
	ape run market $(MARKET_ARGS)

# RECONCILE_ARGS: e.g. --from-block 100 (ape run reconcile --help)
reconcile: setup
	ape run reconcile $(RECONCILE_ARGS)

# TEST_SHARDS: the suite as that many `ape test` processes side by side, each on its own Anvil
# (ape-config.yaml's `host: auto`), its files split by their recorded seconds
# (tests/durations.json, tests/shards.py); TEST_SHARDS=1 is one process. To refresh the record,
# write it to a scratch file, then move it in: `make test TEST_ARGS="--record-durations
# /tmp/d.json"`, then `mv /tmp/d.json tests/durations.json`. TEST_ARGS: more pytest options for
# every shard; TEST_PATHS: what to collect (the whole suite by default). With several shards
# each line is printed whole as it ends, led by its shard's number ("[1] tests/...").
TEST_SHARDS ?= 2
TEST_ARGS ?=
TEST_PATHS ?= tests
SHARD_LINES = $(if $(filter 1,$(TEST_SHARDS)),,| sed -u 's/^/[$*] /')
ifneq ($(shell [ "$(TEST_SHARDS)" -ge 1 ] 2>/dev/null && echo ok),ok)
$(error TEST_SHARDS=$(TEST_SHARDS): a whole number of processes, at least 1)
endif
ifneq ($(filter --shard%,$(TEST_ARGS)),)
$(error TEST_ARGS: --shard is make test's own (one shard: make test-shard-K TEST_SHARDS=N))
endif
# the project's bytecode, written whatever PYTHONDONTWRITEBYTECODE says (compileall writes it
# anyway; Python still reads it): the hundreds of `ape run` and worker processes a test run
# starts then load offchain/ without compiling its ~250 modules each (0.3-0.5 s of CPU apiece)
BYTECODE := $(BIN)/python -m compileall -q offchain scripts

test: setup
	ape compile
	@$(BYTECODE)
	$(MAKE) --no-print-directory -j$(TEST_SHARDS) \
		$(foreach k,$(shell seq 1 $(TEST_SHARDS)),test-shard-$(k))

test-shard-%: setup
	set -o pipefail; PYTHONUNBUFFERED=1 ape test $(TEST_PATHS) --shard $*/$(TEST_SHARDS) \
		--disable-isolation -p no:cacheprovider $(TEST_ARGS) 2>&1 $(SHARD_LINES)

# the inner loop: everything but the slow, live and fuzz tests (tests/conftest.py marks them)
test-fast: setup
	@$(BYTECODE)
	ape test tests -m "not slow and not live and not fuzz" --strict-markers --disable-isolation -p no:cacheprovider

# the lockstep tests on Hardhat Network instead of Anvil (docs/nodes.md); CI runs this subset
HARDHAT_TESTS ?= tests/backends/test_hardhat.py tests/contracts/vault_engine \
	tests/contracts/backstop/test_loss_event.py tests/contracts/backstop/test_cover.py \
	tests/contracts/backstop/test_cover_waterfall.py tests/contracts/backstop/test_settle_loss_events.py \
	tests/contracts/backstop/test_setters.py tests/contracts/fee_accumulator/test_accrue_fee_split.py
test-hardhat: setup
	@$(BYTECODE)
	BACKSTOP_NODE=hardhat ape test $(HARDHAT_TESTS) --disable-isolation -p no:cacheprovider

# FUZZ_ARGS: e.g. --steps 5000 --workers 2 (ape run fuzz --help)
fuzz: setup
	ape run fuzz --out bench/fuzz-campaign.json $(FUZZ_ARGS)

# MUTATE_ARGS: e.g. --only engine-dust-skipped (ape run mutate --help)
mutate: setup
	ape run mutate $(MUTATE_ARGS)

bench: setup
	ape run bench

# the gas gate (CI): every benchmarked transaction within 1% of bench/gas-snapshot.json
gas-check: setup
	ape run gas

lint: setup $(LINT_STAMP)
	$(LINT_VENV)/bin/ruff check $(PY_SOURCES)
	# no private name imported from another module: a preview rule, so run on its own (within
	# offchain/ it sees one package: tests/system/test_layers.py checks across its modules)
	$(LINT_VENV)/bin/ruff check --preview --select PLC2701 $(PY_SOURCES)
	$(LINT_VENV)/bin/ruff format --check $(PY_SOURCES)
	$(LINT_VENV)/bin/mamushi --check --line-length $(VYPER_LINE_LENGTH) contracts
	pyright

format: $(LINT_STAMP)
	$(LINT_VENV)/bin/ruff format $(PY_SOURCES)
	$(LINT_VENV)/bin/ruff check --fix --exit-zero --quiet $(PY_SOURCES)
	$(LINT_VENV)/bin/mamushi --line-length $(VYPER_LINE_LENGTH) contracts

clean:
	rm -rf $(VENV) $(LINT_VENV) node_modules .build
