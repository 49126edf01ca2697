"""For ``scrapyd-deploy``, which builds its egg with ``python setup.py bdist_egg``.

Everything is configured in pyproject.toml (packages, package data, the ``scrapy``
settings entry point). Without this file scrapyd-deploy writes its own template
here: an untracked ``setup.py`` naming the project "project", version 1.0.
"""

from setuptools import setup

setup()
