"""The differential machine in parts: a base and one mixin of rules per area
(offchain/testing/differential.py combines them)."""
