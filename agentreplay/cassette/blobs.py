"""Content-addressed storage of long byte strings.

An LLM agent re-sends its whole conversation on every call, so request
bodies grow turn by turn while sharing almost all their bytes. Long byte
strings are therefore cut into pieces at content-defined points (after a
``},`` between JSON objects, or after a newline, once a piece is at least
`MIN_PIECE` bytes), and each distinct piece is stored once, addressed by its
BLAKE2b-128 digest. Inside a file a piece is referred to by a small sequential
id, which keeps references to one or two bytes each.

Cut points depend only on the bytes near them, so a message appended to a
conversation changes the pieces around it and leaves the earlier ones, and
their ids, as they were.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

__all__ = ["INLINE_MAX", "BlobTable", "split_pieces"]

INLINE_MAX: Final = 512
"""Byte strings shorter than this are stored inline, not as blobs."""
MIN_PIECE: Final = 256
MAX_PIECE: Final = 64 * 1024
_CUT = re.compile(rb"\},\s*|\n")


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def split_pieces(data: bytes) -> list[bytes]:
    """Cut ``data`` into pieces at content-defined points; joining them gives ``data``."""
    pieces: list[bytes] = []
    start = 0

    def emit(end: int) -> None:
        for offset in range(start, end, MAX_PIECE):
            pieces.append(data[offset : min(offset + MAX_PIECE, end)])

    for match in _CUT.finditer(data):
        end = match.end()
        if end - start >= MIN_PIECE:
            emit(end)
            start = end
    if start < len(data):
        emit(len(data))
    return pieces


class BlobTable:
    """The writer's side: hands out ids for pieces and collects the new ones."""

    def __init__(self) -> None:
        self._ids: dict[bytes, int] = {}
        self.pending: list[list[object]] = []
        """New blobs not yet written, as ``[id, digest, data]``."""

    def __len__(self) -> int:
        return len(self._ids)

    def intern(self, data: bytes) -> bytes | list[int]:
        """Return ``data`` itself if short, else the ids of its pieces."""
        if len(data) < INLINE_MAX:
            return data
        refs: list[int] = []
        for piece in split_pieces(data):
            digest = _digest(piece)
            blob_id = self._ids.get(digest)
            if blob_id is None:
                blob_id = len(self._ids)
                self._ids[digest] = blob_id
                self.pending.append([blob_id, digest, piece])
            refs.append(blob_id)
        return refs

    def take_pending(self) -> list[list[object]]:
        pending, self.pending = self.pending, []
        return pending


def check_blob(blob_id: object, digest: object, data: object) -> bool:
    """True if a ``[id, digest, data]`` record read from a file is well-formed and sound."""
    return (
        type(blob_id) is int
        and isinstance(digest, bytes)
        and isinstance(data, bytes)
        and len(digest) == 16
        and _digest(data) == digest
    )
