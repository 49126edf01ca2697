from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def fake_hub() -> Iterator[Any]:
    """2,500 public models built from the real recorded bodies."""
    from fakehub import FakeHub

    with FakeHub(n_models=2500) as hub:
        yield hub


@pytest.fixture(scope="session")
def broken_hub() -> Iterator[Any]:
    """The same, plus records with missing keys and wrong-typed fields."""
    from fakehub import FakeHub

    with FakeHub(n_models=2500, broken=True) as hub:
        yield hub


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
