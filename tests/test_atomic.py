"""atomic.py: whole-or-nothing writes of files and folders."""

from __future__ import annotations

import os

import pytest

from forecast_cli import atomic
from forecast_cli.errors import OutputError


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.csv"
    atomic.atomic_write_text(target, "old\n")
    atomic.atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["f.csv"]


def test_atomic_write_into_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        atomic.atomic_write_text(tmp_path / "nope" / "f.csv", "x")


def test_staged_directory_keeps_the_old_one_on_failure(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "manifest.json").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.staged_directory(final) as tmp:
            (tmp / "manifest.json").write_text("new")
            raise RuntimeError("boom")
    assert (final / "manifest.json").read_text() == "old"
    assert os.listdir(tmp_path) == ["model"]
    with atomic.staged_directory(final) as tmp:
        (tmp / "manifest.json").write_text("new")
    assert (final / "manifest.json").read_text() == "new" and os.listdir(tmp_path) == ["model"]


def test_stale_temp_of_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / ".model.tmp-999999999-abcd"
    stale.mkdir()
    atomic.remove_stale_temps(tmp_path / "model")
    assert not stale.exists()
