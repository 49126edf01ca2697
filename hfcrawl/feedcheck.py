"""Feed problems that can be known before the first request.

Scrapy finds them only when a feed opens (an unknown format, an unknown item
class) or when its first item arrives (a Parquet file that cannot be appended
to), after the crawl has run; the crawl command checks them first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy.exceptions import UsageError
from scrapy.utils.conf import feed_process_params_from_cli
from scrapy.utils.misc import load_object

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

# formats written as one self-contained file, which cannot take more rows after it
_NOT_APPENDABLE = {"parquet"}


class FeedError(ValueError):
    """A feed that cannot work; its message is one line naming the feed."""


def known_formats(settings: BaseSettings) -> set[str]:
    return {k for k, v in settings.getwithbase("FEED_EXPORTERS").items() if v}


def check_feeds(settings: BaseSettings) -> None:
    formats = known_formats(settings)
    for uri, options in settings.getdict("FEEDS").items():
        check_feed(str(uri), dict(options or {}), formats)


def check_cli_outputs(settings: BaseSettings, flag: str, outputs: list[str]) -> None:
    """``-o``/``-O`` values whose format Scrapy cannot tell; its own message
    comes with the whole usage text."""
    for output in outputs:
        try:
            feed_process_params_from_cli(settings, [output])
        except UsageError:
            known = ", ".join(sorted(known_formats(settings)))
            raise FeedError(
                f"{flag} {output}: unknown feed format (known: {known}; "
                "FILE:FORMAT names one)"
            ) from None


def check_feed(uri: str, options: dict[str, Any], formats: set[str]) -> None:
    fmt = options.get("format")
    if not fmt:
        raise FeedError(f"feed {uri}: no format (give 'format' in FEEDS)")
    if fmt not in formats:
        raise FeedError(
            f"feed {uri}: unknown format {fmt!r} (known: {', '.join(sorted(formats))})"
        )
    for name in options.get("item_classes") or ():
        if isinstance(name, str):
            try:
                load_object(name)
            except (ImportError, NameError, AttributeError, ValueError):
                raise FeedError(
                    f"feed {uri}: unknown item class {name!r} in item_classes"
                ) from None
    if fmt in _NOT_APPENDABLE and not options.get("overwrite", False):
        path = local_path(uri)
        if path is not None and path.exists() and path.stat().st_size > 0:
            raise FeedError(
                f"feed {uri}: a {fmt} file cannot be appended to and {path} "
                "exists: use -O (overwrite), or 'overwrite': True in FEEDS"
            )


def local_path(uri: str) -> Path | None:
    """The file a feed URI writes, when it is a plain local file (no
    ``%(...)s`` parameters: those are only known once the crawl runs)."""
    if "%(" in uri:
        return None
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    # a Windows drive letter parses as a one-letter scheme
    if parts.scheme and len(parts.scheme) > 1:
        return None
    return Path(uri)
