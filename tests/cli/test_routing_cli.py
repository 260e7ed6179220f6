"""``archlab events test-pattern``, ``archlab sns test-filter`` and ``archlab route``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archlab.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "purchases"
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def assert_user_error(code: int, out: str, err: str, *fragments: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr naming the problem, no traceback."""
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("archlab: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


class TestEventsTestPattern:
    def test_match_and_no_match(self) -> None:
        pattern = '{"detail": {"coverage": ["car"]}}'
        assert run(
            "events",
            "test-pattern",
            "--event-pattern",
            pattern,
            "--event",
            '{"detail": {"coverage": "car"}}',
        ) == (0, '{"Result": true}\n', "")
        assert run(
            "events",
            "test-pattern",
            "--event-pattern",
            pattern,
            "--event",
            '{"detail": {"coverage": "home"}}',
        ) == (0, '{"Result": false}\n', "")

    def test_reads_files_given_with_at(self, tmp_path: Path) -> None:
        (tmp_path / "p.json").write_text('{"source": [{"prefix": "archlab."}]}')
        (tmp_path / "e.json").write_text('{"source": "archlab.storefront"}')
        code, out, _ = run(
            "events",
            "test-pattern",
            "--event-pattern",
            f"@{tmp_path}/p.json",
            "--event",
            f"@{tmp_path}/e.json",
        )
        assert (code, json.loads(out)) == (0, {"Result": True})

    def test_invalid_pattern_names_the_path(self) -> None:
        code, out, err = run(
            "events",
            "test-pattern",
            "--event-pattern",
            '{"detail": {"n": [{"numeric": [">", "x"]}]}}',
            "--event",
            "{}",
        )
        assert_user_error(code, out, err, "--event-pattern", "detail.n[0].numeric[1]", "number")

    @pytest.mark.parametrize(
        ("pattern", "event", "fragments"),
        [
            ("{not json", "{}", ["--event-pattern", "not valid JSON"]),
            ('{"a": ["x"]}', "[1, 2]", ["--event", "must be a JSON object"]),
            ('{"a": ["x"]}', "{oops", ["--event", "not valid JSON"]),
            ("@/nonexistent/p.json", "{}", ["--event-pattern", "no such file"]),
        ],
    )
    def test_bad_input_is_one_line(self, pattern: str, event: str, fragments: list[str]) -> None:
        code, out, err = run("events", "test-pattern", "--event-pattern", pattern, "--event", event)
        assert_user_error(code, out, err, *fragments)


class TestSnsTestFilter:
    ATTRIBUTES = json.dumps(
        {
            "coverage": {"DataType": "String", "StringValue": "car"},
            "premium": {"DataType": "Number", "StringValue": "640.5"},
        }
    )

    def test_attributes_scope(self) -> None:
        policy = '{"coverage": ["car"], "premium": [{"numeric": [">", 500]}]}'
        code, out, _ = run(
            "sns", "test-filter", "--filter-policy", policy, "--message-attributes", self.ATTRIBUTES
        )
        assert (code, out) == (0, '{"Result": true}\n')
        code, out, _ = run(
            "sns",
            "test-filter",
            "--filter-policy",
            '{"coverage": ["home"]}',
            "--message-attributes",
            self.ATTRIBUTES,
        )
        assert (code, out) == (0, '{"Result": false}\n')

    def test_body_scope(self) -> None:
        args = [
            "sns",
            "test-filter",
            "--scope",
            "MessageBody",
            "--filter-policy",
            '{"order": {"coverage": ["car"]}}',
        ]
        assert run(*args, "--message", '{"order": {"coverage": "car"}}')[:2] == (
            0,
            '{"Result": true}\n',
        )
        assert run(*args, "--message", "plain text")[:2] == (0, '{"Result": false}\n')

    @pytest.mark.parametrize(
        ("args", "fragments"),
        [
            (["--filter-policy", '{"a": [{"wildcard": "x*"}]}'], ["--filter-policy", "wildcard"]),
            (["--filter-policy", '{"a": {"b": ["x"]}}'], ["--filter-policy", "MessageBody"]),
            (["--filter-policy", '{"a": ["x"]}', "--scope", "Body"], ["--scope"]),
            (
                ["--filter-policy", '{"a": ["x"]}', "--message-attributes", '{"a": 1}'],
                ["--message-attributes", "DataType"],
            ),
            (
                ["--filter-policy", '{"a": ["x"]}', "--message-attributes", "{"],
                ["--message-attributes", "not valid JSON"],
            ),
        ],
    )
    def test_bad_input_is_one_line(self, args: list[str], fragments: list[str]) -> None:
        code, out, err = run("sns", "test-filter", *args)
        assert_user_error(code, out, err, *fragments)


class TestRoute:
    def test_bundled_example(self) -> None:
        code, out, err = run(
            "route", "--rules", f"@{EXAMPLES}/rules.json", "--input", str(EXAMPLES / "events.jsonl")
        )
        assert code == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines[0] == {"line": 1, "rules": ["car-backend", "car-glass-addon"]}
        # Array consistency: the glass add-on of line 4 has quantity 0, the car item no glass.
        assert "car-glass-addon" not in lines[3]["rules"]
        assert lines[5]["line"] == 6 and "not valid JSON" in lines[5]["error"]
        assert lines[-1] == {"line": 7, "rules": []}

    def test_reads_stdin_skips_blank_lines_and_survives_bad_lines(self) -> None:
        rules = json.dumps({"cars": {"c": ["car"]}, "all": {"c": [{"exists": True}]}})
        stdin = '{"c": "car"}\n\n[1]\n{"c": "boat"}\n'
        code, out, _ = run("route", "--rules", rules, stdin=stdin)
        assert code == 0
        assert [json.loads(line) for line in out.splitlines()] == [
            {"line": 1, "rules": ["all", "cars"]},
            {"line": 3, "error": "event must be a JSON object, got an array"},
            {"line": 4, "rules": ["all"]},
        ]

    @pytest.mark.parametrize(
        ("rules", "fragments"),
        [
            ('{"bad": {"a": "x"}}', ["rule 'bad'", "a:"]),
            ('{"bad": 3}', ["rule 'bad'", "JSON object"]),
            ("[]", ["--rules", "non-empty JSON object"]),
            ("{}", ["--rules", "non-empty JSON object"]),
        ],
    )
    def test_bad_rules_are_one_line(self, rules: str, fragments: list[str]) -> None:
        code, out, err = run("route", "--rules", rules, stdin="{}\n")
        assert_user_error(code, out, err, *fragments)

    def test_missing_input_file(self) -> None:
        code, out, err = run("route", "--rules", '{"r": {"a": ["x"]}}', "--input", "/nope.jsonl")
        assert_user_error(code, out, err, "--input", "no such file")


def run_pattern_command(pattern: str, event: str) -> subprocess.CompletedProcess[str]:
    """``python -m archlab events test-pattern`` in a real process, as a user runs it."""
    command = ["events", "test-pattern", "--event-pattern", pattern, "--event", event]
    return subprocess.run(
        [sys.executable, "-m", "archlab", *command], capture_output=True, text=True, check=False
    )


def test_installed_command_runs() -> None:
    done = run_pattern_command('{"a": [1]}', '{"a": 1.0}')
    assert (done.returncode, done.stdout) == (0, '{"Result": true}\n')
    done = run_pattern_command('{"a": [{"EXISTS": true}]}', "{}")
    assert done.returncode == 2 and done.stdout == ""
    assert "unrecognised operator 'EXISTS'" in done.stderr
