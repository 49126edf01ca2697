"""A loopback fake of the Hugging Face Hub API for tests, demos and benchmarks."""

from hfcrawl.fakehub.exchange import Faults, HubRequest, HubResponse
from hfcrawl.fakehub.faults import FaultInjector, FaultRates, Quota, Stats
from hfcrawl.fakehub.records import build_records
from hfcrawl.fakehub.server import FakeHub

__all__ = [
    "FakeHub",
    "FaultInjector",
    "FaultRates",
    "Faults",
    "HubRequest",
    "HubResponse",
    "Quota",
    "Stats",
    "build_records",
]
