"""python-socketio clients against a server run with --max-payload 10000: a
message over the limit drops its sender only, over polling and WebSocket."""
import unittest
import uuid

from support import TIMINGS, WAIT, ServerTestCase, wait_until


class OversizedMessage:
    """The test; each subclass picks TRANSPORTS."""

    SERVER_ARGS = TIMINGS + ['--max-payload', '10000']

    def test_oversized_message_drops_only_its_sender(self):
        sender = self.connected_peer()
        bystander = self.connected_peer()
        self.assertEqual(sender.inbox.get('auth'), ({},))
        self.assertEqual(bystander.inbox.get('auth'), ({},))

        # Just under the limit (the Engine.IO packet is about 9,020 bytes).
        fits = 'y' * 9000
        sender.sio.emit('message', fits)
        self.assertEqual(sender.inbox.get('message-back'), (fits,))

        sender.sio.emit('message', 'z' * 20000)
        self.assertTrue(
            wait_until(lambda: sender.sio.eio.state != 'connected'),
            'the sender is still connected')
        self.assertEqual(sender.inbox.pending('message-back'), 0)

        word = uuid.uuid4().hex
        self.assertEqual(bystander.sio.call('message-with-ack', word,
                                            timeout=WAIT), word)
        bystander.sio.emit('message', fits)
        self.assertEqual(bystander.inbox.get('message-back'), (fits,))


class PollingLimitTest(OversizedMessage, ServerTestCase):
    TRANSPORTS = ['polling']

    def test_oversized_message_drops_only_its_sender(self):
        super().test_oversized_message_drops_only_its_sender()
        # The oversized POST was refused with 413.
        self.assertTrue(self._peers[0].packets.noted(
            'Unexpected status code 413'), self._peers[0].packets.notes)


class WebSocketLimitTest(OversizedMessage, ServerTestCase):
    TRANSPORTS = ['websocket']

    def test_oversized_message_drops_only_its_sender(self):
        super().test_oversized_message_drops_only_its_sender()
        # Over WebSocket the close reaches the client's disconnect handler.
        self.assertEqual(self._peers[0].inbox.get('disconnect'), ())


if __name__ == '__main__':
    unittest.main()
