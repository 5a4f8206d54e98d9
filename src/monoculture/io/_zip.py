"""Read members of a zip archive, including Zstandard ones (method 93), which Python's
`zipfile` cannot open before 3.14 (Inspect AI writes ``.eval`` logs with them since 0.3.28x).

The central directory is read by `zipfile`; a Zstandard member's bytes are located through
its local header and decompressed as a stream (Inspect writes several frames per member).
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from monoculture.errors import ReadError

__all__ = ["ZipArchive"]

ZIP_ZSTANDARD = 93
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"


class ZipArchive:
    """An open zip archive whose members are read as bytes or JSON.

    Raises `ReadError` (naming the file and the fix) for a file that is not a zip, is
    truncated, or holds a member compressed by a method other than stored, deflate or
    Zstandard.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise ReadError(
                f"{path}: is not a readable zip archive ({error}); the log may be truncated "
                "or still being written. Re-copy it, or recover it with `inspect log "
                "convert`."
            ) from None
        self._handle: IO[bytes] = path.open("rb")
        self.names = {info.filename: info for info in self._zip.infolist()}

    def close(self) -> None:
        self._handle.close()
        self._zip.close()

    def __enter__(self) -> ZipArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, name: str) -> bytes:
        info = self.names[name]
        try:
            if info.compress_type == ZIP_ZSTANDARD:
                return self._read_zstd(info)
            return self._zip.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            raise ReadError(
                f"{self.path}: member {name} cannot be read ({error}); the archive is "
                "damaged or truncated. Re-copy the log."
            ) from None
        except NotImplementedError:
            raise ReadError(
                f"{self.path}: member {name} uses zip compression method "
                f"{info.compress_type}, which is not supported (stored, deflate and "
                "Zstandard are); re-write the log with a current inspect_ai."
            ) from None

    def read_json(self, name: str) -> Any:
        data = self.read(name)
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ReadError(
                f"{self.path}: member {name} is not valid JSON ({error}); the log is damaged. "
                "Re-copy it or re-run the evaluation."
            ) from None

    def _read_zstd(self, info: zipfile.ZipInfo) -> bytes:
        import zstandard

        handle = self._handle
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise ValueError("bad local file header")
        fields = _LOCAL_HEADER.unpack(header)
        name_length, extra_length = fields[9], fields[10]
        handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        packed = handle.read(info.compress_size)
        if len(packed) < info.compress_size:
            raise ValueError("member data ends early")
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(packed, read_across_frames=True)
            data: bytes = reader.read()
        except zstandard.ZstdError as error:
            raise ValueError(str(error)) from None
        if len(data) != info.file_size:
            raise ValueError(f"decompressed {len(data)} bytes, expected {info.file_size}")
        if zlib.crc32(data) != info.CRC:
            raise ValueError("CRC check failed")
        return data
