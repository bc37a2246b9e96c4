"""Rule, channel and silence validation, and the start-up file in each format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gpu_sentinel.alerts.loader import AlertsFileError, load_alerts_file
from gpu_sentinel.alerts.rules import ChannelSpec, RuleSpec, RuleUpdate

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
    public = ChannelSpec(name="hook", type="webhook", url="https://x.example/h", secret="k").public()
    assert "secret" not in public and public["secret_set"] is True


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
