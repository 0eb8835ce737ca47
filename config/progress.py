"""Progress of a long management command: a bar redrawn in place on a terminal, a plain line
per step otherwise (a log, a pipe, CI), where carriage returns would only garble the output.

    progress = Progress(len(ids), stream=self.stdout)
    for calendar_id in ids:
        ...
        progress.advance(f"{calendar_id} synced")
    progress.finish()
"""

from django.core.management.base import OutputWrapper

BAR_WIDTH = 30
CLEAR_LINE = "\r\x1b[K"


class Progress:
    def __init__(self, total: int, *, stream, interactive: bool | None = None):
        self.total = total
        self.done = 0
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        if self.interactive and total:
            self._write(self.bar())

    def bar(self) -> str:
        filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
        return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total}"

    def advance(self, message: str = "") -> None:
        """One step done; `message` says how it went (kept on screen above the bar)."""
        self.done += 1
        if self.interactive:
            line = f"{CLEAR_LINE}{message}\n" if message else CLEAR_LINE
            self._write(line + self.bar())
        else:
            self._write(f"{self.done}/{self.total} {message}".rstrip() + "\n")

    def finish(self) -> None:
        """End the bar's line, so what the command prints next starts on a line of its own."""
        if self.interactive and self.total:
            self._write("\n")

    def _write(self, text: str) -> None:
        # Django's OutputWrapper adds a newline to every write unless told not to.
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()
