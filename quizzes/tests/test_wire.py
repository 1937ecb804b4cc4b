"""The frames quizzes/wire.py writes straight to daphne's sockets, read back by a real
websocket client's parser (the `websockets` library), at each of the three length encodings."""

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from quizzes.wire import text_frame


def parse_server_frame(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    return done.value.value


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_001])
def test_text_frame_is_one_final_unmasked_text_frame_any_length(size):
    text = "é" * (size // 2) + "a" * (size % 2)  # multi-byte: the length is in bytes

    frame = parse_server_frame(text_frame(text))

    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert frame.data.decode() == text
