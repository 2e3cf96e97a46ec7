"""A command's output events, decoded and handed to callbacks."""

from __future__ import annotations

import base64
import codecs
from collections.abc import Callable
from dataclasses import dataclass

TextCallback = Callable[[str], object]
BytesCallback = Callable[[bytes], object]


@dataclass
class OutputCallbacks:
    """Where output goes. A stream given a bytes callback is neither decoded nor kept, so long outputs cost no memory."""

    on_stdout: TextCallback | None = None
    on_stderr: TextCallback | None = None
    on_stdout_bytes: BytesCallback | None = None
    on_stderr_bytes: BytesCallback | None = None

    def any(self) -> bool:
        return any((self.on_stdout, self.on_stderr, self.on_stdout_bytes, self.on_stderr_bytes))


class OutputCollector:
    """Decodes base64 output events as UTF-8 without splitting a character across chunks."""

    def __init__(self, callbacks: OutputCallbacks) -> None:
        self.callbacks = callbacks
        self.stdout = ""
        self.stderr = ""
        self._out = codecs.getincrementaldecoder("utf-8")("replace")
        self._err = codecs.getincrementaldecoder("utf-8")("replace")

    def take(self, stream: str, data: str) -> None:
        raw = base64.b64decode(data)
        cb = self.callbacks
        if stream == "stdout":
            if cb.on_stdout_bytes:
                cb.on_stdout_bytes(raw)
                return
            text = self._out.decode(raw)
            self.stdout += text
            if text and cb.on_stdout:
                cb.on_stdout(text)
        else:
            if cb.on_stderr_bytes:
                cb.on_stderr_bytes(raw)
                return
            text = self._err.decode(raw)
            self.stderr += text
            if text and cb.on_stderr:
                cb.on_stderr(text)
