from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from fakehub import FakeHub


class HubStarter:
    """Starts fake Hubs (``FakeHub(**options)``) and stops them all at the end
    of the fixture's scope: the one way tests get a fake Hub."""

    def __init__(self) -> None:
        self._running = ExitStack()

    def __call__(self, **options: Any) -> FakeHub:
        return self._running.enter_context(FakeHub(**options))

    def close(self) -> None:
        self._running.close()


def _starter() -> Iterator[HubStarter]:
    starter = HubStarter()
    try:
        yield starter
    finally:
        starter.close()


@pytest.fixture
def start_hub() -> Iterator[HubStarter]:
    """A fake Hub of the test's own (quotas, faults, delays), stopped after it."""
    yield from _starter()


@pytest.fixture(scope="module")
def start_module_hub() -> Iterator[HubStarter]:
    """The same, for a hub a whole test module shares."""
    yield from _starter()


@pytest.fixture(scope="session")
def start_session_hub() -> Iterator[HubStarter]:
    yield from _starter()


@pytest.fixture(scope="session")
def fake_hub(start_session_hub: HubStarter) -> FakeHub:
    """2,500 public models built from the real recorded bodies."""
    return start_session_hub(n_models=2500)


@pytest.fixture(scope="session")
def broken_hub(start_session_hub: HubStarter) -> FakeHub:
    """The same, plus records with missing keys and wrong-typed fields."""
    return start_session_hub(n_models=2500, broken=True)


def project_settings(hub: Any, tmp_path: Path) -> dict[str, Any]:
    """The project's settings, pointed at a fake Hub and a temporary export dir."""
    import hfcrawl.settings as project

    values = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    values.update(
        HF_ENDPOINT=hub.url,
        HF_TOKEN="",
        HFCRAWL_SEND_TOKEN=False,
        HFCRAWL_EXPORT_DIR=str(tmp_path / "exports"),
        AUTOTHROTTLE_ENABLED=False,
        LOG_LEVEL="INFO",
    )
    return values


@pytest.fixture
def settings(fake_hub: Any, tmp_path: Path) -> dict[str, Any]:
    return project_settings(fake_hub, tmp_path)


@pytest.fixture
def broken_settings(broken_hub: Any, tmp_path: Path) -> dict[str, Any]:
    return project_settings(broken_hub, tmp_path)
