"""The public suffix list, from tldextract's bundled snapshot (never the network).

Building the extractor parses the snapshot (about 20 ms), so it happens once, on
first use, and only in processes that meet a host name.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import NamedTuple

import tldextract


class HostParts(NamedTuple):
    host: str
    registrable: str  #: "example.co.uk" for "www.example.co.uk"
    suffix: str  #: "co.uk"


@cache
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() and cache_dir=None: use the snapshot shipped with the
    # package, write nothing to disk, and never fetch anything.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=8192)
def split_host(host: str) -> HostParts | None:
    """Registrable domain and public suffix of ``host``; ``None`` if it has neither.

    Hosts repeat a lot across posts (the same scam domain in a thousand posts), so
    results are memoized.
    """
    r = _extractor().extract_str(host)
    if not r.suffix or not r.domain:
        return None
    return HostParts(host, f"{r.domain}.{r.suffix}", r.suffix)
