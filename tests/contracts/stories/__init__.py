"""Tests of end-to-end stories across contracts."""
