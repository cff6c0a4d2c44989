"""Running a scenario: the bar loop on a chain or in the model (`driver.py`), the run's set-up of
deployment, population and funds (`setup.py`), the sending of actions through the keepers' gas
strategy and the latency model (`sending.py`), the bar's steps in the order they act
(`lineup.py`), its transactions mined in blocks and recorded (`recorder.py`), one replay in the
model and on a chain node, reconciled (`replay.py`), and one timed model run in a process of its
own, for `make bench` (`timing.py`)."""
