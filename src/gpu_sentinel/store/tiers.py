"""Resolution tiers, like continuous aggregates: 1-second raw rows, then 5-second, 15-second, 1-minute
and 1-hour rollups with avg/min/max, each kept for its own retention. A query picks its tier here."""

from __future__ import annotations

from dataclasses import dataclass

from gpu_sentinel.config import Settings


@dataclass(frozen=True, slots=True)
class Tier:
    """``seconds`` is the row spacing; ``retention_s`` how far back rows are kept."""

    name: str
    seconds: int
    retention_s: int

    @property
    def raw(self) -> bool:
        return self.seconds == 1

    def table(self, scope: str) -> str:
        return f"{scope}_{self.name}"


def tiers_for(settings: Settings) -> tuple[Tier, ...]:
    """Finest first. The 5- and 15-second tiers live as long as raw data and serve the 6 h and 24 h
    charts (spec 003's 5 s and 15 s aggregation) without aggregating at query time."""
    raw_s = int(settings.raw_retention_hours * 3600)
    return (
        Tier("raw", 1, raw_s),
        Tier("5s", 5, raw_s),
        Tier("15s", 15, raw_s),
        Tier("1m", 60, settings.metrics_retention_days * 86400),
        Tier("1h", 3600, settings.hourly_retention_days * 86400),
    )


def pick_tier(tiers: tuple[Tier, ...], bucket_s: int, start: int, now: int) -> Tier:
    """The coarsest tier whose rows fit the bucket exactly and still reach back to ``start``; failing that,
    the finest tier that reaches back (its resolution then sets the bucket), else the longest-kept one."""
    reaching = [tier for tier in tiers if start >= now - tier.retention_s]
    exact = [tier for tier in reaching if tier.seconds <= bucket_s and bucket_s % tier.seconds == 0]
    if exact:
        return exact[-1]
    if reaching:
        return reaching[0]
    return max(tiers, key=lambda tier: tier.retention_s)
