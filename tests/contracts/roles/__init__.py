"""Tests of least privilege across contracts: who may call what (finding 14)."""
