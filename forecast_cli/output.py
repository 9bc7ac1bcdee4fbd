"""Everything the tool shows a person goes to stderr through here; stdout carries data only."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class ConsoleReporter:
    """Progress, notes and warnings on stderr: a rich progress bar on a terminal, plain lines
    otherwise (cron logs), nothing but warnings with `quiet`."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.console = err_console()
        self.interactive = sys.stderr.isatty() and not quiet
        self._progress: Progress | None = None
        self._task = None
        self._started = time.monotonic()

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False)

    def warn(self, message: str) -> None:
        self.console.print(f"Warning: {message}", markup=False, style="yellow")

    def epoch(self, epoch: int, epochs: int, row: dict[str, float], seconds: float) -> None:
        if self.quiet:
            return
        left = seconds / epoch * (epochs - epoch)
        text = f"loss {row['loss']:.4f}"
        if row["val_loss"] == row["val_loss"]:  # not NaN: a refit has no validation loss
            text += f"  val_loss {row['val_loss']:.4f}"
        if self.interactive:
            if self._progress is None:
                self._progress = Progress(
                    TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[text]}"),
                    TimeElapsedColumn(), TextColumn("at most {task.fields[left]} left"),
                    console=self.console, transient=False,
                )
                self._progress.start()
                self._task = self._progress.add_task("train", total=epochs, text=text, left="")
            self._progress.update(self._task, completed=epoch, text=text, left=_duration(left))
        else:
            self.console.print(
                f"epoch {epoch}/{epochs}  {text}  {_duration(seconds)} elapsed, at most {_duration(left)} left",
                markup=False,
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60:02d}s"
