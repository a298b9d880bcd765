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
from collections import deque
from typing import Final

__all__ = ["INLINE_MAX", "BlobTable", "blob_record", "split_pieces"]

INLINE_MAX: Final = 512
"""Byte strings shorter than this are stored inline, not as blobs."""
MIN_PIECE: Final = 256
MAX_PIECE: Final = 64 * 1024
_SPACE = re.compile(rb"\s*")


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def split_pieces(data: bytes, start: int = 0) -> list[bytes]:
    """Cut ``data[start:]`` into pieces at content-defined points; joining them gives it back.

    A cut goes after the first ``},`` (and the whitespace after it) or newline
    that ends at least `MIN_PIECE` bytes after the previous cut. ``bytes.find``
    locates them (a regular expression scans ten times slower), remembering
    the next occurrence of each so that no byte is searched twice.
    """
    pieces: list[bytes] = []
    size = len(data)
    brace = newline = -1  # next "}," and "\n" at or after the last search point
    while start < size:
        origin = start + MIN_PIECE - 2
        if brace < origin:
            brace = data.find(b"},", origin)
            brace = size if brace < 0 else brace
        if newline < origin + 1:
            newline = data.find(b"\n", origin + 1)
            newline = size if newline < 0 else newline
        if newline < brace:
            end = newline + 1
        elif brace < size:
            end = _SPACE.match(data, brace + 2).end()  # type: ignore[union-attr]
        else:
            end = size
        for offset in range(start, end, MAX_PIECE):
            pieces.append(data[offset : min(offset + MAX_PIECE, end)])
        start = end
    return pieces


class BlobTable:
    """The writer's side: hands out ids for pieces and collects the new ones."""

    def __init__(self) -> None:
        self._ids: dict[bytes, int] = {}
        self.pending: list[list[object]] = []
        """New blobs not yet written, as ``[id, data]``."""
        # The last few long values with their piece ends and ids: the next request
        # of a conversation starts with all but the last piece of the previous one.
        self._recent: deque[tuple[bytes, list[int], list[int]]] = deque(maxlen=4)

    def __len__(self) -> int:
        return len(self._ids)

    def _known_prefix(self, data: bytes) -> tuple[list[int], list[int]]:
        """Piece ends and ids of the longest already-cut prefix of ``data``."""
        best: tuple[int, list[int], list[int]] = 0, [], []
        for previous, ends, refs in self._recent:
            view = memoryview(previous)
            low, high = 0, len(ends) - 1  # never the last piece: it ended with the data
            while low < high:  # the most pieces of ``previous`` that ``data`` starts with
                middle = (low + high + 1) // 2
                if data.startswith(view[: ends[middle - 1]]):
                    low = middle
                else:
                    high = middle - 1
            if low > best[0]:
                best = low, ends[:low], refs[:low]
        return best[1], best[2]

    def intern(self, data: bytes) -> bytes | list[int]:
        """Return ``data`` itself if short, else the ids of its pieces."""
        if len(data) < INLINE_MAX:
            return data
        ends, refs = self._known_prefix(data)
        position = ends[-1] if ends else 0
        for piece in split_pieces(data, position):
            digest = _digest(piece)
            blob_id = self._ids.get(digest)
            if blob_id is None:
                blob_id = len(self._ids)
                self._ids[digest] = blob_id
                self.pending.append([blob_id, piece])
            refs.append(blob_id)
            position += len(piece)
            ends.append(position)
        self._recent.appendleft((data, ends, refs))
        return list(refs)

    def take_pending(self) -> list[list[object]]:
        pending, self.pending = self.pending, []
        return pending


def blob_record(item: object, *, digested: bool) -> tuple[int, bytes] | None:
    """The id and data of a blob record read from a file, or None if it is malformed:
    ``[id, data]``, or before format 6.0 ``[id, digest, data]`` with its digest checked
    (6.0 leaves integrity to the checksums of zstd frames and stream records)."""
    if type(item) is not list or len(item) != (3 if digested else 2):
        return None
    blob_id, data = item[0], item[-1]
    if type(blob_id) is not int or not isinstance(data, bytes):
        return None
    if digested and not (isinstance(item[1], bytes) and _digest(data) == item[1]):
        return None
    return blob_id, data
