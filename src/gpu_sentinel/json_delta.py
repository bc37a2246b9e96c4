"""Compact deltas between two JSON documents, for the live stream's incremental mode.

RFC 7386 merge patches cannot say "this value became null" (null means "remove") and replace arrays
whole, which would resend every GPU. This delta keeps their nesting but is exact for any JSON value:

- an object: changes inside the old value, which is an object (keys are member names) or an array of
  the same length (keys are decimal indexes);
- a number, string, boolean or null: the new value;
- ``[value]``: the new value, whatever it is (how an object or array is replaced or added);
- ``[]``: the member is removed.

``apply(old, diff(old, new)) == new`` for any two documents, including their types and member order.
"""

from __future__ import annotations

import math
from typing import Any

Patch = Any


class _Unchanged:
    """What ``_diff`` returns when a value did not change (``None`` is a real JSON value)."""


UNCHANGED = _Unchanged()
REMOVED: list[Any] = []


def diff(old: dict[str, Any], new: dict[str, Any]) -> Patch:
    """The changes that turn ``old`` into ``new``: an object (empty when nothing changed), or ``[new]``
    when its members were reordered."""
    patch = _diff(old, new)
    return {} if patch is UNCHANGED else patch


def _diff(old: Any, new: Any) -> Patch:
    if type(old) is not type(new):
        return _replacement(new)
    if isinstance(new, dict):
        return _diff_object(old, new)
    if isinstance(new, list):
        return _diff_array(old, new)
    return new if _changed(old, new) else UNCHANGED


def _changed(old: Any, new: Any) -> bool:
    """For two scalars of one type: different in JSON (0.0 and -0.0 compare equal but are not)."""
    if isinstance(new, float) and new == 0.0 == old:
        return math.copysign(1.0, old) != math.copysign(1.0, new)
    return bool(old != new)


def _replacement(new: Any) -> Patch:
    return [new] if isinstance(new, dict | list) else new


_CONTAINERS = (dict, list)


def _diff_object(old: dict[str, Any], new: dict[str, Any]) -> Patch:
    old_keys, new_keys = list(old), list(new)
    # Applying keeps the old members' places and appends new ones: any other order needs the whole value.
    if old_keys != new_keys and new_keys != [key for key in old_keys if key in new] + [
        key for key in new_keys if key not in old
    ]:
        return [new]
    patch: dict[str, Patch] = {}
    for key, value in new.items():
        if key not in old:
            patch[key] = _replacement(value)
            continue
        before = old[key]
        # Scalars inline: a frame is mostly numbers, and most of them unchanged.
        if type(before) is type(value) and not isinstance(value, _CONTAINERS):
            if before != value or (value == 0 and _changed(before, value)):
                patch[key] = value
            continue
        change = _diff(before, value)
        if change is not UNCHANGED:
            patch[key] = change
    if len(old_keys) != len(new_keys) or old_keys != new_keys:
        for key in old_keys:
            if key not in new:
                patch[key] = REMOVED
    return patch or UNCHANGED


def _diff_array(old: list[Any], new: list[Any]) -> Patch:
    if len(old) != len(new):
        return [new]
    patch: dict[str, Patch] = {}
    for index, (before, after) in enumerate(zip(old, new, strict=True)):
        if type(before) is type(after) and not isinstance(after, _CONTAINERS):
            if before != after or (after == 0 and _changed(before, after)):
                patch[str(index)] = after
            continue
        change = _diff(before, after)
        if change is not UNCHANGED:
            patch[str(index)] = change
    return patch or UNCHANGED


def apply(document: Any, patch: Patch) -> Any:
    """``document`` with ``patch`` applied; ``document`` itself is left as it was."""
    if isinstance(patch, list):
        if len(patch) != 1:
            raise ValueError("a delta's removal marker [] can only stand for an object member")
        return patch[0]
    if not isinstance(patch, dict):
        return patch
    if isinstance(document, list):
        result_list = list(document)
        for key, change in patch.items():
            result_list[int(key)] = apply(result_list[int(key)], change)
        return result_list
    if not isinstance(document, dict):
        raise ValueError("a delta's object patch needs an object or array to apply to")
    result = dict(document)
    for key, change in patch.items():
        if change == REMOVED:
            result.pop(key, None)
        else:
            result[key] = apply(result.get(key), change)
    return result
