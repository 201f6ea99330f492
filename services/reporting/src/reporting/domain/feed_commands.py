"""What the protected feed is asked for: the publication as one reader may see it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reporting.domain.feed import ProtectedCell, Protection


@dataclass(frozen=True)
class FeedReader:
    """Who reads: the ministry (district level and above, every region) or a reader scoped to region codes."""

    ministry: bool
    regions: tuple[str, ...] = ()

    def sees(self, cell: ProtectedCell) -> bool:
        """The ministry sees district level and above; others every level inside their regions."""
        if self.ministry:
            return cell.key.region_level.district_or_above
        code = cell.key.region_code
        return any(code == region or code.startswith(region + ".") for region in self.regions)


@dataclass(frozen=True)
class ProtectedFeed:
    """The last publication of the protected feed, cut to what `reader` may see."""

    reader: FeedReader


@dataclass(frozen=True)
class PublishFeed:
    """Publish the protected feed as of `published_at`: the whole feed (every level) becomes the one the routes
    serve, its district-and-above part goes to the aggregate topic. `slot` names the publication ('yyyyMM' for the
    monthly one): a slot already taken (by another replica) publishes nothing."""

    publication_id: str
    published_at: dt.datetime
    protection: Protection
    slot: str
