"""A loopback fake of the Hugging Face Hub API for tests, demos and benchmarks."""

from fakehub.exchange import Faults, HubRequest, HubResponse
from fakehub.faults import FaultInjector, FaultRates, Latency, Quota, Stats
from fakehub.records import build_records
from fakehub.server import FakeHub

__all__ = [
    "FakeHub",
    "FaultInjector",
    "FaultRates",
    "Faults",
    "HubRequest",
    "HubResponse",
    "Latency",
    "Quota",
    "Stats",
    "build_records",
]
