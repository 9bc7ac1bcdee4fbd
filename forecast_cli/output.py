"""Everything the tool shows a person goes to stderr through here; stdout carries data only."""

from __future__ import annotations

import os
import sys
import time
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter(Protocol):
    """Where the pipeline sends what a person may want to see (the CLI prints it on stderr)."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def epoch(self, epoch: int, epochs: int, row: dict[str, float], seconds: float) -> None: ...

    def progress(self, what: str, done: int, total: int) -> None: ...


class SilentReporter:
    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def epoch(self, epoch: int, epochs: int, row: dict[str, float], seconds: float) -> None:
        pass

    def progress(self, what: str, done: int, total: int) -> None:
        pass


def counted(n: int, noun: str) -> str:
    """`n` and `noun`, plural (an s added) unless n is 1: for the summaries' counts.

    Example:
        >>> counted(1, "window"), counted(97, "window"), counted(0, "epoch")
        ('1 window', '97 windows', '0 epochs')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def number(value: float | None) -> str:
    """A score or value for a person: four significant digits, and a large one in whole numbers
    with commas between thousands (tourism's MAE of 10,750 nights read as 1.075e+04).

    Example:
        >>> [number(v) for v in (None, float("nan"), 0.31918, 14.912, 9719.4, 10750.2, 80437.9, 2.5e7, 3e16, 1.2e-5)]
        ['-', '-', '0.3192', '14.91', '9719', '10,750', '80,438', '25,000,000', '3e+16', '1.2e-05']
    """
    if value is None or value != value:  # no score (NaN where a table of scores holds None)
        return "-"
    return f"{value:,.0f}" if 1e4 <= abs(value) < 1e15 else f"{value:.4g}"


def reader_gone(stream) -> bool:
    """Whether a standard stream is a pipe whose reader has closed it (poll reports an error on
    the writing end): a BrokenPipeError then came from it, not from a pipe of the tool's own."""
    import select

    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture), or no poll here
        return False


def silence(stream) -> None:
    """Point a standard stream whose reader went away (`| head` closed the pipe) at /dev/null:
    what is still written to it, and Python's flush at exit, then go nowhere instead of failing."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture): nothing to point elsewhere
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _to_stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except BrokenPipeError:  # stderr's reader went away: the run goes on without its log (`_StderrConsole`)
        silence(sys.stderr)


def error_line(message: str) -> None:
    """Write `Error: message` on stderr as one line (cron logs grep for it): the only writer of
    error lines."""
    _to_stderr("Error: " + " ".join(message.split()) + "\n")


def note_line(message: str) -> None:
    """Write a plain line on stderr, even with --quiet (for what must be seen, such as an interrupt)."""
    _to_stderr(message + "\n")


class _StderrConsole(Console):
    """The console of everything shown on stderr. When stderr's reader goes away (`forecast
    train data.csv 2>&1 | head`, a log pipe that died), the run goes on without its log: a
    night's model or forecast matters more than lines nobody reads any more. (rich's own
    handling exits 1, the code of a bug, and points stdout, where the data goes, at /dev/null.)"""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        silence(sys.stderr)


def err_console() -> Console:
    return _StderrConsole(stderr=True, highlight=False, soft_wrap=True)


class ConsoleReporter:
    """Progress, notes and warnings on stderr: a rich progress bar on a terminal, plain lines
    otherwise (cron logs), nothing but warnings with `quiet`."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.console = err_console()
        self.interactive = sys.stderr.isatty() and not quiet
        self._progress: Progress | None = None
        self._task = None
        self._bar: tuple[str, object] | None = None  # the current progress bar: what it counts, its task
        self._shown: dict[str, int] = {}  # plain lines: the count last printed per kind of work
        self._warned: set[str] = set()
        self._started = time.monotonic()

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False)

    def warn(self, message: str) -> None:
        """A warning, said once: a backtest trains once per fold and would repeat what the data
        gives rise to (a short series, intermittent series) as often."""
        if message in self._warned:
            return
        self._warned.add(message)
        self.console.print(f"Warning: {message}", markup=False, style="yellow")

    def epoch(self, epoch: int, epochs: int, row: dict[str, float], seconds: float) -> None:
        if self.quiet:
            return
        left = seconds / epoch * (epochs - epoch)
        text = f"loss {row['loss']:.4f}"
        if row["val_loss"] == row["val_loss"]:  # not NaN: a refit has no validation loss
            text += f"  val_loss {row['val_loss']:.4f}"
        if self.interactive:
            if self._progress is None or self._bar is not None or epoch == 1:
                # A fit's first epoch (the refit's, an ensemble's next network) starts a bar of its own
                # epochs; the one before stays as it ended.
                self.close()
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

    def progress(self, what: str, done: int, total: int) -> None:
        """`done` of `total` units of work (the per-series fits): a bar on a terminal, else a line
        at each further quarter (a cron log gets four lines, not one a task)."""
        if self.quiet:
            return
        if self.interactive:
            if self._bar is None or self._bar[0] != what:
                self.close()
                self._progress = Progress(TextColumn(what), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
                                          console=self.console, transient=False)
                self._progress.start()
                self._bar = (what, self._progress.add_task(what, total=total))
            self._progress.update(self._bar[1], completed=done)
            if done >= total:
                self.close()
        elif done * 4 // total > (self._shown.get(what, 0) * 4) // total or done == total:
            self._shown[what] = done
            self.console.print(f"{what}: {done}/{total}", markup=False)
            if done >= total:  # finished: the same work run again (the final fits) counts from zero
                del self._shown[what]

    def close(self) -> None:
        self._bar = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60:02d}s"
