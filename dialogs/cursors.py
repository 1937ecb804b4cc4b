"""The dialog list's cursors: the shared signed keyset cursor (config/cursors.py), keyed by
the dialog's integer id."""

from __future__ import annotations

from config.cursors import Cursor, CursorCodec

__all__ = ["Cursor", "decode", "encode"]

_codec = CursorCodec(salt="dialogs.list.cursor", id_type=int)
encode = _codec.encode
decode = _codec.decode
