"""Start-up and CLI mistakes through the real command: one line naming the flag (when it came from a
flag) or the variable, what is wrong and what is allowed; exit status 2; nothing half-made."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import one_line_error, run_cli

SERVE = ["serve", "--simulate", "1", "--log-file", ""]


def test_an_unsupported_database_url_names_the_variable_and_hides_the_password(tmp_path: Path) -> None:
    result = run_cli([*SERVE, "--data-dir", "d"], tmp_path, {"DATABASE_URL": "mysql://app:hunter2@db/x"})
    line = one_line_error(result)
    assert line.startswith("gpu-sentinel: invalid setting DATABASE_URL: unsupported database 'mysql'")
    assert "postgresql://" in line and "sqlite:///" in line
    assert "hunter2" not in line


def test_an_unsupported_database_flag_names_the_flag(tmp_path: Path) -> None:
    line = one_line_error(run_cli([*SERVE, "--database", "redis://cache"], tmp_path))
    assert "invalid setting --database: unsupported database 'redis'" in line


def test_a_missing_alert_rules_file(tmp_path: Path) -> None:
    env = {"ALERT_RULES_FILE": str(tmp_path / "alerts.yaml")}
    line = one_line_error(run_cli([*SERVE, "--data-dir", "d"], tmp_path, env))
    expected = f"invalid setting ALERT_RULES_FILE: {tmp_path / 'alerts.yaml'} does not exist or is not a file"
    assert line == f"gpu-sentinel: {expected}"


def test_an_invalid_alert_rule_names_the_field_and_what_is_allowed(tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text('rules:\n  - {id: hot, name: Hot, metric: gpu.warmth, condition: ">", threshold: 80}\n')
    line = one_line_error(run_cli([*SERVE, "--data-dir", "d"], tmp_path, {"ALERT_RULES_FILE": str(rules)}))
    assert "invalid setting ALERT_RULES_FILE" in line
    assert "rules.0.metric: unknown metric 'gpu.warmth'" in line and "gpu.temperature_c" in line


def test_an_alert_rules_file_that_is_not_yaml(tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text("rules: [\n")
    line = one_line_error(run_cli([*SERVE, "--data-dir", "d"], tmp_path, {"ALERT_RULES_FILE": str(rules)}))
    assert "invalid setting ALERT_RULES_FILE" in line and "line 2" in line


def test_a_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    line = one_line_error(run_cli([*SERVE, "--data-dir", "taken"], tmp_path))
    assert line.startswith("gpu-sentinel: invalid setting --data-dir: taken is a file;")
    assert line.endswith("the data directory must be a directory")


def test_a_data_dir_that_cannot_be_created_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    line = one_line_error(run_cli(SERVE, tmp_path, {"GPU_SENTINEL_DATA_DIR": "taken/sub"}))
    assert line.startswith("gpu-sentinel: invalid setting GPU_SENTINEL_DATA_DIR: taken/sub cannot be used")
    assert "must be a directory this user can write" in line


def test_a_port_out_of_range_names_the_flag_it_came_from(tmp_path: Path) -> None:
    line = one_line_error(run_cli(["serve", "--port", "99999"], tmp_path))
    assert line.startswith("gpu-sentinel: invalid setting --port:")
    assert line.endswith("less than or equal to 65535 (got 99999)")


def test_a_port_out_of_range_names_the_variable_it_came_from(tmp_path: Path) -> None:
    line = one_line_error(run_cli(["serve"], tmp_path, {"GPU_SENTINEL_PORT": "0"}))
    assert line.startswith("gpu-sentinel: invalid setting GPU_SENTINEL_PORT: Input should be greater than")


def test_user_add_without_a_terminal_or_a_password_on_stdin(tmp_path: Path) -> None:
    line = one_line_error(run_cli(["user", "add", "alice", "--data-dir", "data"], tmp_path))
    assert line.startswith("gpu-sentinel user: no password on standard input and no terminal to ask on")
    assert "--password-stdin" in line
    assert not (tmp_path / "data" / "users.json").exists()


def test_user_add_reads_the_password_from_a_pipe(tmp_path: Path) -> None:
    result = run_cli(["user", "add", "alice", "--data-dir", "data"], tmp_path, stdin="a long passphrase\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "added alice (viewer)"
    listed = run_cli(["user", "list", "--data-dir", "data"], tmp_path)
    assert listed.stdout.split() == ["alice", "viewer"]


def test_user_commands_refuse_a_data_dir_that_is_a_file_and_create_nothing(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    for action in (["list"], ["remove", "bob"]):
        line = one_line_error(run_cli(["user", *action, "--data-dir", "taken"], tmp_path))
        assert line.startswith("gpu-sentinel: invalid setting --data-dir: taken is a file;")
    result = run_cli(["user", "remove", "bob", "--data-dir", "missing"], tmp_path)
    assert one_line_error(result) == "gpu-sentinel user: No user named 'bob'"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]


def test_migrate_without_a_reachable_database_says_so_in_one_line(tmp_path: Path) -> None:
    url = "postgresql://owner:hunter2@127.0.0.1:1/fleet"
    result = run_cli(["migrate", "--database", url], tmp_path)
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("gpu-sentinel migrate: postgresql://owner:***@127.0.0.1:1/fleet: ")
    assert "Connection refused" in lines[0]
    assert "hunter2" not in result.stderr


def test_migrate_creates_the_tables_and_says_which_versions(tmp_path: Path) -> None:
    result = run_cli(["migrate", "--database", f"sqlite:///{tmp_path / 'h.sqlite3'}"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "history schema version" in result.stdout and "alerts schema version" in result.stdout
    again = run_cli(["migrate", "--database", f"sqlite:///{tmp_path / 'h.sqlite3'}"], tmp_path)
    assert again.stdout == result.stdout, "a second run finds the schema current"
