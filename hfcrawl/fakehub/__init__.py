"""A loopback fake of the Hugging Face Hub API for tests, demos and benchmarks."""

from hfcrawl.fakehub.records import build_records

__all__ = ["build_records"]
