"""What a crawl met, counted for the reference tables (``licenses``,
``languages``, ``tasks``).

``ReferenceCounts`` counts the licences, language codes and tasks of model and
dataset rows, from a run folder's tables (``add_run``) or row by row as a crawl
produces them (``observe``), and turns the counts into rows (``rows``) with
``hfcrawl.parsers.reference``. The ``reference`` spider reads run folders; a
crawl that makes models and datasets itself (the whole-graph ``hub`` crawl) can
``observe`` its rows as they pass, ``add_run`` its own run folder when resumed
(what earlier sessions wrote), and emit ``rows(tasks)`` once its listing is done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfcrawl.items import Dataset, Model
from hfcrawl.parsers.reference import language_row, license_row, task_row
from hfcrawl.runfolder import read_columns

_LicenceKey = tuple[str, str | None]  # (license, license_name for "other")


@dataclass
class ReferenceCounts:
    """Per licence, language and task: how many models and datasets name it."""

    licenses: dict[str, Counter[_LicenceKey]] = field(
        default_factory=lambda: {"models": Counter(), "datasets": Counter()}
    )
    links: dict[_LicenceKey, str] = field(default_factory=dict)
    languages: dict[str, Counter[str]] = field(
        default_factory=lambda: {"models": Counter(), "datasets": Counter()}
    )
    tasks: dict[str, Counter[str]] = field(
        default_factory=lambda: {"models": Counter(), "datasets": Counter()}
    )

    # --- counting ---------------------------------------------------------------
    def add_model(
        self,
        license: str | None,
        license_name: str | None,
        license_link: str | None,
        languages: Iterable[str] | None,
        pipeline_tag: str | None,
    ) -> None:
        self._add("models", license, license_name, license_link, languages)
        if pipeline_tag:
            self.tasks["models"][pipeline_tag] += 1

    def add_dataset(
        self,
        license: str | None,
        languages: Iterable[str] | None,
        task_categories: Iterable[str] | None,
    ) -> None:
        self._add("datasets", license, None, None, languages)
        for task in set(task_categories or ()):
            self.tasks["datasets"][task] += 1

    def _add(
        self,
        side: str,
        license: str | None,
        license_name: str | None,
        license_link: str | None,
        languages: Iterable[str] | None,
    ) -> None:
        if license:
            key = (license, license_name if license == "other" else None)
            self.licenses[side][key] += 1
            if license_link and key not in self.links:
                self.links[key] = license_link
        for code in set(languages or ()):
            self.languages[side][code] += 1

    def observe(self, rows: Iterable[Any]) -> None:
        """Count the model and dataset rows among ``rows`` (others are skipped)."""
        for row in rows:
            if isinstance(row, Model):
                self.add_model(
                    row.license,
                    row.license_name,
                    row.license_link,
                    row.languages,
                    row.pipeline_tag,
                )
            elif isinstance(row, Dataset):
                self.add_dataset(row.license, row.languages, row.task_categories)

    def add_run(self, folder: Path) -> None:
        """Count the ``models`` and ``datasets`` tables of a run folder."""
        columns = ("license", "license_name", "license_link", "languages")
        for lic, name, link, langs, tag in read_columns(
            folder / Model.table, (*columns, "pipeline_tag")
        ):
            self.add_model(lic, name, link, langs, tag)
        for lic, langs, tasks in read_columns(
            folder / Dataset.table, ("license", "languages", "task_categories")
        ):
            self.add_dataset(lic, langs, tasks)

    # --- rows -------------------------------------------------------------------
    def rows(self, tasks: dict[str, dict[str, Any]] | None) -> list[Any]:
        """Every reference row; ``tasks`` is ``/api/tasks`` (None: not read)."""
        models, datasets = self.licenses["models"], self.licenses["datasets"]
        out: list[Any] = [
            license_row(lic, name, self.links.get((lic, name)), models[k], datasets[k])
            for k in sorted(models.keys() | datasets.keys(), key=_sortable)
            for lic, name in [k]
        ]
        langs_m, langs_d = self.languages["models"], self.languages["datasets"]
        out += [
            language_row(code, langs_m[code], langs_d[code])
            for code in sorted(langs_m.keys() | langs_d.keys())
        ]
        tasks_m, tasks_d = self.tasks["models"], self.tasks["datasets"]
        out += [
            task_row(task, tasks, tasks_m[task], tasks_d[task])
            for task in sorted(tasks_m.keys() | tasks_d.keys())
        ]
        return out


def _sortable(key: _LicenceKey) -> tuple[str, str]:
    return key[0], key[1] or ""
