"""Each signed-in user's dashboard preferences (today: the System Monitor's panel layout), kept in
``preferences.json`` in the data directory, so a user's layout follows them to any browser.

The panel names are declared here once: the API validates against them and the dashboard's types are
generated from the OpenAPI schema they appear in.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from gpu_sentinel.auth.files import tighten_mode, write_private
from gpu_sentinel.errors import SentinelError

log = logging.getLogger(__name__)

PREFERENCES_FILE = "preferences.json"
# A full layout is well under 1 KiB; anything near this limit is not a layout.
MAX_PREFERENCES_BYTES = 8192

SinglePanel = Literal[
    "trends",
    "utilization",
    "temperature",
    "power",
    "fan",
    "hardware",
    "health",
    "system-resources",
    "storage",
    "processes",
    "system-info",
]
ComparePanel = Literal["trends", "gpu-cards", "system-resources", "storage"]
SINGLE_PANELS: tuple[str, ...] = get_args(SinglePanel)
COMPARE_PANELS: tuple[str, ...] = get_args(ComparePanel)

Panel = TypeVar("Panel", bound=str)


class PreferencesTooLargeError(SentinelError):
    status_code = 422
    code = "validation_error"

    def __init__(self, size_bytes: int) -> None:
        super().__init__(
            f"The preferences document is {size_bytes} bytes; at most {MAX_PREFERENCES_BYTES} are allowed"
        )


def _distinct(panels: list[Panel]) -> list[Panel]:
    repeated = sorted({panel for panel in panels if panels.count(panel) > 1})
    if repeated:
        raise ValueError(f"each panel may appear once, but {', '.join(repeated)} appears more than once")
    return panels


class PreferencesUnavailableError(SentinelError):
    status_code = 503
    code = "preferences_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"The preferences could not be saved ({reason}); the browser keeps its copy")


class SingleViewLayout(BaseModel):
    """One GPU's page: panels top to bottom (those missing keep their default place) and those hidden."""

    model_config = ConfigDict(extra="forbid")

    order: Annotated[list[SinglePanel], AfterValidator(_distinct)] = Field(
        default_factory=list, max_length=len(SINGLE_PANELS)
    )
    hidden: Annotated[list[SinglePanel], AfterValidator(_distinct)] = Field(
        default_factory=list, max_length=len(SINGLE_PANELS)
    )


class CompareViewLayout(BaseModel):
    """The all-GPU page, laid out the same way."""

    model_config = ConfigDict(extra="forbid")

    order: Annotated[list[ComparePanel], AfterValidator(_distinct)] = Field(
        default_factory=list, max_length=len(COMPARE_PANELS)
    )
    hidden: Annotated[list[ComparePanel], AfterValidator(_distinct)] = Field(
        default_factory=list, max_length=len(COMPARE_PANELS)
    )


class DashboardLayout(BaseModel):
    """Each view of the System Monitor page has a layout of its own."""

    model_config = ConfigDict(extra="forbid")

    single: SingleViewLayout = Field(default_factory=SingleViewLayout)
    compare: CompareViewLayout = Field(default_factory=CompareViewLayout)


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: DashboardLayout


class PreferencesOut(BaseModel):
    layout: DashboardLayout | None = Field(description="Null until the user saves a layout.")
    updated_at: float | None = Field(description="Unix seconds of the last save; null before the first.")


NO_PREFERENCES = PreferencesOut(layout=None, updated_at=None)
VIEW_PANELS = {"single": SINGLE_PANELS, "compare": COMPARE_PANELS}


def known_panels(layout: dict[str, Any]) -> dict[str, Any]:
    """A saved layout without the panels this version does not have (saved by another version), which
    would otherwise make the whole layout unreadable."""
    return {
        view: {
            key: list(dict.fromkeys(p for p in layout.get(view, {}).get(key, []) if p in panels))
            for key in ("order", "hidden")
        }
        for view, panels in VIEW_PANELS.items()
    }


class PreferenceStore:
    """The preferences file, cached in memory and keyed by user id (never reused, so a re-created user
    name starts afresh); every save rewrites it atomically with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = self._load()

    def get(self, user_id: str) -> PreferencesOut:
        record = self._records.get(user_id)
        if record is None:
            return NO_PREFERENCES
        try:
            layout = record.get("layout")
            return PreferencesOut(
                layout=None if layout is None else DashboardLayout.model_validate(known_panels(layout)),
                updated_at=record.get("updated_at"),
            )
        except (ValidationError, AttributeError):
            log.warning("ignoring unreadable saved preferences of user id %s", user_id)
            return NO_PREFERENCES

    def save(
        self, user_id: str, username: str, preferences: PreferencesIn, *, user_ids: Collection[str]
    ) -> PreferencesOut:
        """Replace one user's preferences; those of users no longer in ``user_ids`` (removed) go too."""
        saved = PreferencesOut(layout=preferences.layout, updated_at=round(time.time(), 3))
        with self._lock:
            records = {key: record for key, record in self._records.items() if key in user_ids}
            records[user_id] = {"username": username, **saved.model_dump()}
            try:
                write_private(self.path, json.dumps(records, indent=2, sort_keys=True).encode())
            except OSError as error:
                log.warning("cannot save preferences to %s: %s", self.path, error)
                raise PreferencesUnavailableError(error.strerror or str(error)) from error
            self._records = records
        return saved

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            log.warning("cannot read %s (%s); saved layouts are unavailable", self.path, error)
            return {}
        if tighten_mode(self.path):
            log.warning("%s was readable by other users; its mode is now 0600", self.path)
        try:
            records = json.loads(raw)
            if not isinstance(records, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            # Kept aside rather than overwritten by the next save, so nothing is lost.
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            self.path.replace(aside)
            log.error("%s is not valid preferences (%s); moved it to %s", self.path, error, aside)
            return {}
        return {str(key): value for key, value in records.items() if isinstance(value, dict)}
