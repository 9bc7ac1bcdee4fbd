"""Defects found by reading the code, each pinned by a test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.conftest import make_long
from typer.testing import CliRunner

from forecast_cli import data
from forecast_cli.cli import app
from forecast_cli.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_backtest_step_zero_is_an_error_not_the_horizon(long_csv):
    result = runner.invoke(app, ["backtest", str(long_csv), "--horizon", "4", "--step", "0"])
    assert result.exit_code == ExitCode.USAGE
    assert "--step must be at least 1. Received: step=0." in result.stderr


def test_line_numbers_after_as_of_name_the_file_line(tmp_path):
    """--as-of drops s0's later rows before the values are parsed; the bad value of s1 must still
    be reported at its own line of the file."""
    frame = make_long(2, 24)
    frame["y"] = frame["y"].astype(str)
    frame.loc[26, "y"] = "oops"  # s1's third row: line 26 + 2 = 28 of the file
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(data.DataError, match=r"long.csv, line 28: 'oops' in column 'y' is not a number"):
        data.load_series(path, as_of="2015-06-01")


def test_doctor_reads_the_file_once(monkeypatch, tmp_path):
    path = tmp_path / "gappy.csv"
    frame = make_long(1, 40)
    frame.loc[3, "y"] = None
    frame.to_csv(path, index=False)
    calls = []
    real = data.read_csv
    monkeypatch.setattr(data, "read_csv", lambda p, encoding: calls.append(p) or real(p, encoding))
    result = runner.invoke(app, ["doctor", str(path), "--horizon", "4"])
    assert result.exit_code == 0 and "1 missing value(s) in 'y'" in result.stderr
    assert len(calls) == 1


def test_readme_exit_codes_match_the_code():
    """cron depends on the exit codes: the README's table lists exactly `ExitCode`'s values."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    assert documented == {int(code) for code in ExitCode}


def test_help_lists_every_exit_code():
    """`forecast --help` lists the exit codes, each in a few words, for a terminal without the
    README (it said "see the README")."""
    from forecast_cli.errors import MEANINGS

    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and set(MEANINGS) == set(ExitCode)
    for code, meaning in MEANINGS.items():
        assert re.search(rf"^ +{int(code)}  {re.escape(meaning)}$", result.output, flags=re.M), code


def test_package_versions_name_every_package_that_shapes_a_model(trained_model):
    from forecast_cli.manifest import read_manifest

    versions = read_manifest(trained_model[0]).versions
    for name in ("tensorflow", "keras", "numpy", "pandas", "statsmodels", "onnxruntime"):
        assert versions.get(name, "not installed") != "not installed", name


def test_code_and_readme_cite_no_issue_numbers():
    """A reader has no issue tracker: code, comments and the README say what and why instead."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "forecast_cli").glob("*.py")),
             *sorted((ROOT / "bench").glob("*.py"))]
    cited = [f"{p.name}: {m.group(0)}" for p in texts for m in re.finditer(r"(?<![\w&/])#\d+\b", p.read_text())]
    assert cited == []


def test_readme_and_docs_links_resolve():
    """The README links to its reference pages in docs/ and they link back: every relative link
    and picture names a file that exists."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(pages) >= 5
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert broken == []
