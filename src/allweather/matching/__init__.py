"""Exact geodesic matching of events to sites: sphere prefilter, ellipsoid answer."""

from allweather.matching.index import Pairs, SiteIndex

__all__ = ["Pairs", "SiteIndex"]
