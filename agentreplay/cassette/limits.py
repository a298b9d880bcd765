"""What reading a cassette may build in memory, whatever the file says.

A cassette is compressed and deduplicated, so a few hostile bytes could
otherwise ask for gigabytes: a frame that expands ten thousand times, an
array of a million empty arrays (each a Python list), a blob referenced a
million times in one body. The reader therefore checks, before it builds:

- a frame's content: at most `MAX_FRAME_CONTENT`, and at most `EXPANSION`
  times the size of the whole file once past `FREE_CONTENT`;
- the values decoded from one frame: at most `MAX_ITEMS` (the index: as many
  as half the file's size, if more);
- one byte string assembled from blob pieces: at most `MAX_FIELD`;
- the bytes assembled from blobs in one read of the file: at most
  `ASSEMBLED_EXPANSION` times the file's size, once past `FREE_ASSEMBLED`;
- the blob bytes held: at most `BLOB_EXPANSION` times the file's size, once
  past `FREE_BLOBS`.

Past any of them the reader raises `CassetteError`. The writer never makes
a file that breaks them, short of one event expanding a thousandfold.
"""

from __future__ import annotations

from typing import Any, Final

import msgpack

from agentreplay.errors import CassetteError

__all__ = [
    "EXPANSION",
    "MAX_FIELD",
    "MAX_FRAME_CONTENT",
    "MAX_ITEMS",
    "Budget",
    "blob_limit",
    "content_limit",
    "unpack",
]

MAX_FRAME_CONTENT: Final = 64 * 1024 * 1024
FREE_CONTENT: Final = 8 * 1024 * 1024
EXPANSION: Final = 1024
MAX_ITEMS: Final = 1_000_000
MAX_FIELD: Final = 64 * 1024 * 1024
FREE_ASSEMBLED: Final = 64 * 1024 * 1024
FREE_BLOBS: Final = 64 * 1024 * 1024
ASSEMBLED_EXPANSION: Final = 1024
BLOB_EXPANSION: Final = 64


def content_limit(file_size: int, ceiling: int = MAX_FRAME_CONTENT) -> int:
    """How many bytes one frame of a file of ``file_size`` bytes may expand to."""
    return min(ceiling, max(FREE_CONTENT, EXPANSION * file_size))


def _reject_ext(code: int, data: bytes) -> object:
    raise ValueError(f"msgpack extension type {code} is not allowed in a cassette")


class _TooMany(Exception):
    pass


class _Counter:
    """Counts values as msgpack builds arrays and maps; stops it past the limit."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def array(self, items: list[Any]) -> list[Any]:
        self.left -= len(items) + 1
        if self.left < 0:
            raise _TooMany
        return items

    def pairs(self, pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
        self.left -= 2 * len(pairs) + 1
        if self.left < 0:
            raise _TooMany
        return dict(pairs)


def unpack(data: bytes, offset: int, what: str, items: int = MAX_ITEMS) -> Any:
    """msgpack-decode ``data`` without ever evaluating it (no ext types), building at most
    ``items`` arrays, maps and values in them."""
    options: dict[str, Any] = {
        "raw": False,
        "use_list": True,
        "strict_map_key": False,
        "ext_hook": _reject_ext,
        "timestamp": 0,
        "max_array_len": items,
        "max_map_len": items,
    }
    if len(data) > items:  # each value takes a byte at least: fewer bytes, fewer values
        counter = _Counter(items)
        options.update(list_hook=counter.array, object_pairs_hook=counter.pairs)
    try:
        return msgpack.unpackb(data, **options)
    except _TooMany:
        raise CassetteError(
            f"{what} holds more than {items:,} values, more than a cassette ever needs",
            offset=offset,
        ) from None
    except Exception as exc:  # msgpack raises many types; all mean "malformed"
        raise CassetteError(f"malformed {what}: {exc}", offset=offset) from exc


class Budget:
    """Bytes one read of a file may assemble from blob pieces."""

    __slots__ = ("left",)

    def __init__(self, file_size: int) -> None:
        self.left = max(FREE_ASSEMBLED, ASSEMBLED_EXPANSION * file_size)

    def take(self, size: int) -> None:
        if size > MAX_FIELD:
            raise CassetteError(
                f"an event's bytes would assemble to {size:,} bytes from blob pieces; "
                f"the limit is {MAX_FIELD:,}"
            )
        self.left -= size
        if self.left < 0:
            raise CassetteError(
                "the events refer to blob pieces so often that reading them would assemble "
                "more than a thousand times the file's size"
            )


def blob_limit(file_size: int) -> int:
    """Blob bytes a reader of a file of ``file_size`` bytes may hold."""
    return max(FREE_BLOBS, BLOB_EXPANSION * file_size)
