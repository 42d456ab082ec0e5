"""Places where a higher app plugs into the directory without the directory importing it.

hospitals sits below appointments (DESIGN.md §2), so the directory cannot ask for slots itself.
appointments registers a provider at start-up (its AppConfig.ready); until then the directory
knows of no free period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol


class FreePeriod(Protocol):
    start: Any  # an aware datetime
    end: Any
    places_left: int


NextFreePeriodProvider = Callable[..., Mapping[int, FreePeriod]]

_next_free_period_provider: NextFreePeriodProvider | None = None


def register_next_free_period_provider(func: NextFreePeriodProvider | None) -> None:
    """Install `func(*, doctors) -> {doctor_id: period}` (period has .start, .end,
    .places_left); a doctor missing from the answer has no free period in the next two weeks.
    Passing None goes back to "none known"."""
    global _next_free_period_provider
    _next_free_period_provider = func


def next_free_periods(*, doctors: Iterable) -> dict[int, FreePeriod]:
    """Each doctor's next free period, by doctor id; empty when no provider is registered."""
    doctors = list(doctors)
    if _next_free_period_provider is None or not doctors:
        return {}
    return dict(_next_free_period_provider(doctors=doctors))
