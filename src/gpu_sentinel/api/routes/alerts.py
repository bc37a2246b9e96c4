"""Alerts API: active alerts and their acknowledgement, transition history, and the rules, channels and
silences behind them. Reads are open to whoever may read, except channels (they hold credentials);
every change needs an admin.

Routes are plain functions: FastAPI runs them on its thread pool, so database writes and the hand-over
to the alert worker never block the event loop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, Field, ValidationError

from gpu_sentinel import models
from gpu_sentinel.alerts import catalogue
from gpu_sentinel.alerts.channels import ChannelReplacement, ChannelSpec, ChannelView
from gpu_sentinel.alerts.errors import AlertConfigError, AlertsUnavailableError
from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.repository import HistoryFilter
from gpu_sentinel.alerts.rules import SLUG, RuleSpec, RuleUpdate, Severity, SilenceSpec
from gpu_sentinel.api.deps import AdminDep, ServiceDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

_DESCRIPTIONS = {
    401: "A token is needed.",
    403: "Only admins change alerting or read its channels.",
    404: "No such rule, channel, silence or alert.",
    409: "The identifier is taken, or the channel is in use.",
    422: "Invalid rule, channel or silence; the detail names the field.",
    502: "The channel's receiver refused or did not answer.",
    503: "Alerting is disabled or its database is unavailable.",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": models.ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


def get_alerts(service: ServiceDep) -> AlertManager:
    alerts: AlertManager | None = getattr(service, "alerts", None)
    if alerts is None:
        raise AlertsUnavailableError("Alerting is disabled on this service (GPU_SENTINEL_ALERTS_ENABLED)")
    return alerts


AlertsDep = Annotated[AlertManager, Depends(get_alerts)]
RuleId = Annotated[str, Path(pattern=SLUG)]
ChannelName = Annotated[str, Path(pattern=SLUG)]


class AckRequest(BaseModel):
    comment: str = Field("", max_length=2000)


def rule_out(rule: RuleSpec) -> dict[str, Any]:
    return {**rule.model_dump(mode="json"), "scope": rule.scope}


# -- alerts and history ------------------------------------------------------------------------------


@router.get("", responses=_errors(503))
def active_alerts(alerts: AlertsDep) -> dict[str, Any]:
    """Alerts pending or firing now, with acknowledgement and silence status."""
    active = alerts.active()
    return {"alerts": active, "count": len(active)}


@router.get("/history", responses=_errors(422, 503))
def alert_history(
    alerts: AlertsDep,
    *,
    rule_id: Annotated[str | None, Query(pattern=SLUG)] = None,
    gpu_id: Annotated[int | None, Query(ge=0, le=2**15 - 1)] = None,
    severity: Severity | None = None,
    state: Literal["pending", "firing", "resolved", "inactive"] | None = None,
    start: Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds.")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds, exclusive.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Every recorded transition, newest first, with the delivery status of each notification."""
    total, items = alerts.history(
        HistoryFilter(
            rule_id=rule_id,
            gpu_id=gpu_id,
            severity=severity,
            state=state,
            start=start.timestamp() if start else None,
            end=end.timestamp() if end else None,
            limit=limit,
            offset=offset,
        )
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


class AlertMetricOut(BaseModel):
    name: str = Field(description="What a rule's `metric` names.")
    scope: Literal["gpu", "host"]
    unit: str
    help: str
    event: bool = Field(description="An event or state flag rather than a level.")


@router.get("/metrics", response_model=list[AlertMetricOut])
def alert_metrics() -> list[AlertMetricOut]:
    """What a rule can watch: metric and event names with their scope and unit."""
    return [
        AlertMetricOut(name=m.name, scope=m.scope, unit=m.unit, help=m.help, event=m.event)
        for m in catalogue.METRICS.values()
    ]


@router.post("/{alert_id}/ack", responses=_errors(401, 403, 404, 503))
def acknowledge(
    alert_id: str, alerts: AlertsDep, admin: AdminDep, _: Annotated[AckRequest | None, Body()] = None
) -> dict[str, Any]:
    """Acknowledge an active alert (``<rule_id>:gpu<N>`` or ``<rule_id>:host``): it stops repeating."""
    return alerts.acknowledge(alert_id, admin.username)


# -- rules -------------------------------------------------------------------------------------------


@router.get("/rules", responses=_errors(503))
def list_rules(alerts: AlertsDep) -> list[dict[str, Any]]:
    return [rule_out(rule) for rule in alerts.config.rules()]


@router.post("/rules", status_code=201, responses=_errors(401, 403, 409, 422, 503))
def create_rule(rule: RuleSpec, alerts: AlertsDep, _: AdminDep) -> dict[str, Any]:
    return rule_out(alerts.config.create_rule(rule))


@router.get("/rules/{rule_id}", responses=_errors(404, 503))
def get_rule(rule_id: RuleId, alerts: AlertsDep) -> dict[str, Any]:
    return rule_out(alerts.config.rule(rule_id))


@router.put("/rules/{rule_id}", responses=_errors(401, 403, 404, 422, 503))
def replace_rule(rule_id: RuleId, rule: RuleSpec, alerts: AlertsDep, _: AdminDep) -> dict[str, Any]:
    return rule_out(alerts.config.replace_rule(rule_id, rule))


@router.patch("/rules/{rule_id}", responses=_errors(401, 403, 404, 422, 503))
def update_rule(rule_id: RuleId, update: RuleUpdate, alerts: AlertsDep, _: AdminDep) -> dict[str, Any]:
    """Change some fields, e.g. ``{"enabled": false}`` or ``{"threshold": 90}``."""
    try:
        return rule_out(alerts.config.update_rule(rule_id, update))
    except ValidationError as error:
        raise AlertConfigError.from_validation(error) from error


@router.delete("/rules/{rule_id}", status_code=204, responses=_errors(401, 403, 404, 503))
def delete_rule(rule_id: RuleId, alerts: AlertsDep, _: AdminDep) -> Response:
    alerts.config.delete_rule(rule_id)
    return Response(status_code=204)


# -- channels ----------------------------------------------------------------------------------------


@router.get("/channels", responses=_errors(401, 403, 503))
def list_channels(alerts: AlertsDep, _: AdminDep) -> list[ChannelView]:
    """Channels, to admins only: secrets, header values and token-bearing URLs masked (``*_set``)."""
    return [ChannelView.of(channel) for channel in alerts.config.channels()]


@router.post("/channels", status_code=201, responses=_errors(401, 403, 409, 422, 503))
def create_channel(channel: ChannelSpec, alerts: AlertsDep, _: AdminDep) -> ChannelView:
    return ChannelView.of(alerts.config.create_channel(channel))


@router.get("/channels/{name}", responses=_errors(401, 403, 404, 503))
def get_channel(name: ChannelName, alerts: AlertsDep, _: AdminDep) -> ChannelView:
    return ChannelView.of(alerts.config.channel(name))


@router.put("/channels/{name}", responses=_errors(401, 403, 404, 422, 503))
def replace_channel(
    name: ChannelName, channel: ChannelReplacement, alerts: AlertsDep, _: AdminDep
) -> ChannelView:
    """Replace a channel. A secret, password, URL or header value left out, or sent back as the mask
    ``********``, keeps its stored value; ``null`` removes a secret or password."""
    return ChannelView.of(alerts.config.replace_channel(name, channel))


@router.delete("/channels/{name}", status_code=204, responses=_errors(401, 403, 404, 409, 503))
def delete_channel(name: ChannelName, alerts: AlertsDep, _: AdminDep) -> Response:
    alerts.config.delete_channel(name)
    return Response(status_code=204)


@router.post("/channels/{name}/test", responses=_errors(401, 403, 404, 502, 503))
def test_channel(name: ChannelName, alerts: AlertsDep, _: AdminDep) -> dict[str, Any]:
    """Send a sample notification now, outside the outbox. A failure reports the receiver's status or
    the kind of error (e.g. ``ConnectError``), never its reply."""
    alerts.test_channel(name)
    return {"channel": name, "delivered": True}


# -- silences ----------------------------------------------------------------------------------------


@router.get("/silences", responses=_errors(503))
def list_silences(alerts: AlertsDep) -> list[dict[str, Any]]:
    return [silence.model_dump(mode="json") for silence in alerts.config.silences()]


@router.post("/silences", status_code=201, responses=_errors(401, 403, 409, 422, 503))
def create_silence(silence: SilenceSpec, alerts: AlertsDep, admin: AdminDep) -> dict[str, Any]:
    """Mute notifications of matching alerts for a time window; transitions are still recorded."""
    if silence.created_by is None:
        silence = silence.model_copy(update={"created_by": admin.username})
    return alerts.config.create_silence(silence).model_dump(mode="json")


@router.delete("/silences/{silence_id}", status_code=204, responses=_errors(401, 403, 404, 503))
def delete_silence(
    silence_id: Annotated[str, Path(pattern=SLUG)], alerts: AlertsDep, _: AdminDep
) -> Response:
    alerts.config.delete_silence(silence_id)
    return Response(status_code=204)
