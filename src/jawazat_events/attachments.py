"""Support tickets' attachments, kept outside the event store in a folder, one file per SHA-256.

`JAWAZAT_ATTACHMENTS_DIR` (default `./attachments`) holds `ab/abcdef…` files named by the SHA-256 of
their content (so the name proves the content, and the same file attached twice is kept once). A file
is written to a temporary name and renamed into place: a crash never leaves half a file under a hash.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")


class FolderAttachmentStore:
    """Content-addressed files in one folder (made on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"'{sha256}' is not a SHA-256 in hex")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes, sha256: str) -> None:
        """Keep the content under its SHA-256 (already there: nothing to do)."""
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(content)
                output.flush()
                os.fsync(output.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes | None:
        """The content kept under this SHA-256, or None."""
        path = self._path(sha256)
        return path.read_bytes() if path.exists() else None
