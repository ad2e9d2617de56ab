"""The one error every step of loading a SQL project raises.

Input: the file a problem is in (as shown to the user), a 1-based line and a plain message.
Output: ``ModelError``, a ``ClickstreamError`` whose message is ``<file>:<line>: <message>``, so the
CLI prints it as one line and exits 3.
"""

from __future__ import annotations

from clickstream.core.errors import ClickstreamError


class ModelError(ClickstreamError):
    """A model, its YAML or ``project.yml`` is wrong; the message says where and why."""

    def __init__(self, file: str, line: int, message: str) -> None:
        message = " ".join(message.split())  # one line, whatever the library said
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.plain = message
