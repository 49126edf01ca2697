"""A loopback fake of the Hugging Face Hub API for tests, demos and benchmarks."""

from hfcrawl.fakehub.records import build_records
from hfcrawl.fakehub.server import FakeHub, Faults, HubRequest, HubResponse

__all__ = ["FakeHub", "Faults", "HubRequest", "HubResponse", "build_records"]
