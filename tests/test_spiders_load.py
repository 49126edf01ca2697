"""Every spider imports, and names follow the rule: module name == spider name."""

from __future__ import annotations

import importlib
import pkgutil

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

import hfcrawl.spiders


def test_project_spider_loader_finds_the_spiders() -> None:
    import hfcrawl.settings as project

    settings = Settings({"SPIDER_MODULES": project.SPIDER_MODULES})
    assert "models" in SpiderLoader.from_settings(settings).list()


def test_every_spider_module_imports_and_is_named_after_its_module() -> None:
    names = {}
    for info in pkgutil.iter_modules(hfcrawl.spiders.__path__):
        module = importlib.import_module(f"hfcrawl.spiders.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and getattr(obj, "name", None)
                and obj.__module__ == module.__name__
            ):
                names[obj.name] = info.name
    assert names == {n: n for n in names}
    assert "models" in names
