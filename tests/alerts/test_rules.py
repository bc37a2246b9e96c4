"""Rule, channel and silence validation, and the start-up file in each format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gpu_sentinel.alerts.channels import ChannelReplacement, ChannelSpec, ChannelView
from gpu_sentinel.alerts.errors import AlertConfigError
from gpu_sentinel.alerts.loader import AlertsFileError, load_alerts_file
from gpu_sentinel.alerts.rules import RuleSpec, RuleUpdate

BASE: dict[str, Any] = {"name": "Hot", "metric": "gpu.temperature_c", "threshold": 85}


def error_of(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        RuleSpec.model_validate({**BASE, **values})
    return str(caught.value)


def test_durations_accept_seconds_and_units() -> None:
    rule = RuleSpec.model_validate({**BASE, "for": "5m", "repeat_interval": "1h", "keep_firing_for": 30})
    assert (rule.for_s, rule.repeat_interval_s, rule.keep_firing_for_s) == (300, 3600, 30)
    assert "is not a duration" in error_of(**{"for": "soon"})


def test_unknown_metric_lists_known_ones() -> None:
    message = error_of(metric="gpu.temprature")
    assert "unknown metric 'gpu.temprature'" in message and "gpu.temperature_c" in message


def test_clear_threshold_must_be_on_the_clearing_side() -> None:
    assert "must be at or below threshold" in error_of(condition=">", clear_threshold=90)
    assert "must be at or above threshold" in error_of(condition="<", clear_threshold=80)
    assert "needs one of the conditions" in error_of(condition="==", clear_threshold=80)


def test_gpu_id_only_for_gpu_metrics() -> None:
    assert "does not apply to the host metric" in error_of(metric="host.cpu_pct", gpu_id=0)
    assert RuleSpec.model_validate({**BASE, "gpu_id": 1}).scope == "gpu"
    assert RuleSpec.model_validate(BASE).scope == "all_gpus"


def test_bad_condition_and_severity() -> None:
    assert "condition" in error_of(condition="=>")
    assert "severity" in error_of(severity="fatal")


def test_patch_revalidates_the_whole_rule() -> None:
    rule = RuleSpec.model_validate({**BASE, "clear_threshold": 80})
    assert RuleUpdate(threshold=90).apply(rule).threshold == 90
    with pytest.raises(ValidationError, match="clear_threshold"):
        RuleUpdate(threshold=70).apply(rule)


def test_channels_need_their_fields_and_hide_secrets() -> None:
    with pytest.raises(ValidationError, match="needs url"):
        ChannelSpec(name="hook", type="webhook")
    with pytest.raises(ValidationError, match="needs smtp_host, sender, recipients"):
        ChannelSpec(name="mail", type="email")
    with pytest.raises(ValidationError, match="not an e-mail address"):
        ChannelSpec(name="m", type="email", smtp_host="h", sender="a@b", recipients=["nobody"])
    public = ChannelView.of(ChannelSpec(name="hook", type="webhook", url="https://x.example/h", secret="k"))
    assert "secret" not in public.model_dump() and public.secret_set is True


FILE_RULE = {"id": "hot-file", "name": "Hot", "metric": "gpu.temperature_c", "threshold": 80, "for": "2m"}
FILE_CHANNEL = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/h", "secret": "s"}


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_alerts_file_in_each_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"alerts{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"rules": [FILE_RULE], "channels": [FILE_CHANNEL]}))
    elif suffix == ".yaml":
        path.write_text(
            "rules:\n  - {id: hot-file, name: Hot, metric: gpu.temperature_c, threshold: 80, for: 2m}\n"
            "channels:\n  - {name: hook, type: webhook, url: 'http://127.0.0.1:9/h', secret: s}\n"
        )
    else:
        path.write_text(
            '[[rules]]\nid = "hot-file"\nname = "Hot"\nmetric = "gpu.temperature_c"\nthreshold = 80\n'
            'for = "2m"\n[[channels]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:9/h"\n'
            'secret = "s"\n'
        )
    loaded = load_alerts_file(path)
    assert loaded.rules[0].for_s == 120 and loaded.channels[0].name == "hook"


def test_invalid_alerts_file_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  - {name: Hot, metric: nope, threshold: 1}\n")
    with pytest.raises(AlertsFileError, match=r"alerts.yaml: rules.0.metric: unknown metric 'nope'"):
        load_alerts_file(path)


@pytest.mark.parametrize(
    ("kind", "url", "shown"),
    [
        ("slack", "https://hooks.slack.com/services/T0/B0/XyZ", "https://hooks.slack.com/********"),
        ("discord", "https://discord.com/api/webhooks/1/abc", "https://discord.com/********"),
        ("webhook", "https://hooks.example/in?token=abc", "https://hooks.example/********"),
        ("webhook", "https://user:pw@hooks.example:8443/in", "https://hooks.example:8443/********"),
        ("webhook", "https://hooks.example/t/4f9c2a7e11d04b6fa9", "https://hooks.example/********"),
        ("webhook", "https://hooks.example/alerts/gpu-sentinel", "https://hooks.example/alerts/gpu-sentinel"),
    ],
)
def test_credential_bearing_urls_are_shown_masked(kind: str, url: str, shown: str) -> None:
    view = ChannelView.of(ChannelSpec(name="c", type=kind, url=url))  # type: ignore[arg-type]
    assert view.url == shown and view.url_set is True


def test_a_replacement_keeps_credentials_left_out_or_sent_back_masked() -> None:
    stored = ChannelSpec(
        name="hook",
        type="webhook",
        url="https://hooks.example/in?token=abc",
        secret="sign",
        headers={"Authorization": "Bearer t0ken", "X-Team": "gpu"},
    )
    shown = ChannelView.of(stored).model_dump()
    assert shown["headers"] == {"Authorization": "********", "X-Team": "********"}
    round_trip = ChannelReplacement.model_validate({**shown, "min_severity": "critical"}).applied_to(stored)
    assert round_trip == stored.model_copy(update={"min_severity": "critical"})
    left_out = ChannelReplacement(name="hook", type="webhook").applied_to(stored)
    assert left_out == stored

    changed = ChannelReplacement.model_validate(
        {"name": "hook", "type": "webhook", "headers": {"Authorization": "********", "X-New": "1"}}
    ).applied_to(stored)
    assert changed.headers == {"Authorization": "Bearer t0ken", "X-New": "1"}
    cleared = ChannelReplacement(name="hook", type="webhook", secret=None, headers={}).applied_to(stored)
    assert cleared.secret is None and cleared.headers == {} and cleared.url == stored.url
    with pytest.raises(AlertConfigError, match=r"X-Other: \*{8} is the mask shown for a stored value"):
        ChannelReplacement(name="hook", type="webhook", headers={"X-Other": "********"}).applied_to(stored)


def test_a_new_channel_cannot_store_a_mask() -> None:
    with pytest.raises(ValidationError, match=r"url: \*{8} is the mask"):
        ChannelSpec(name="c", type="slack", url="https://hooks.slack.com/********")


def test_redaction_removes_every_credential_from_a_message() -> None:
    channel = ChannelSpec(
        name="hook", type="webhook", url="https://h.example/in?token=abc", headers={"A": "Bearer t0ken"}
    )
    text = channel.redact("POST https://h.example/in?token=abc with Bearer t0ken failed")
    assert text == "POST ******** with ******** failed"
