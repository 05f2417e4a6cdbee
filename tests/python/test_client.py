"""python-socketio 5.7.2's threaded Client against the conformance handlers,
per transport: polling, WebSocket, and the default polling-then-upgrade."""
import unittest
import uuid

import socketio

from support import WAIT, ServerTestCase, wait_until


def token():
    """A value no server could know in advance."""
    return uuid.uuid4().hex


class ClientBehaviour:
    """The tests; each subclass picks TRANSPORTS and the transport it must
    end on (FINAL)."""

    FINAL = None

    def test_connect_echoes_auth_object(self):
        auth = {'token': token(), 'level': 3, 'tags': ['a', 'b'],
                'nested': {'ok': True, 'none': None}}
        peer = self.connected_peer(auth=auth)
        self.assertEqual(peer.inbox.get('auth'), (auth,))
        self.assertEqual(peer.sio.transport(), self.FINAL)
        self.assertTrue(peer.sio.connected)

    def test_connect_without_auth_gets_empty_object(self):
        peer = self.connected_peer()
        self.assertEqual(peer.inbox.get('auth'), ({},))

    def test_transport_path(self):
        peer = self.connected_peer()
        self.assertEqual(peer.sio.transport(), self.FINAL)
        self.check_transport_path(peer)
        self.assertEqual(peer.sio.call('message-with-ack', 'after-open',
                                       timeout=WAIT), 'after-open')

    def test_event_round_trip_keeps_every_argument(self):
        peer = self.connected_peer()
        args = (token(), 'snow \u2603 grin \U0001F600 "quoted" back\\slash',
                'line\nbreak\ttab \x1e record-separator \x00 nul',
                'lone \ud800 surrogate', '', 0, -17, 3.25, 10 ** 15,
                True, False, None, [], {}, [1, [2, [3, None]]],
                {'k': 'v', 'nested': {'list': [None, 'x', 1.5]}})
        peer.sio.emit('message', args)
        self.assertEqual(peer.inbox.get('message-back'), args)

    def test_single_argument_event(self):
        peer = self.connected_peer()
        value = {'only': token()}
        peer.sio.emit('message', value)
        self.assertEqual(peer.inbox.get('message-back'), (value,))

    def test_call_returns_the_arguments(self):
        peer = self.connected_peer()
        first, second = token(), token()
        several = peer.sio.call('message-with-ack',
                                (first, {'two': [2, second]}, [3]),
                                timeout=WAIT)
        self.assertEqual(several, (first, {'two': [2, second]}, [3]))
        self.assertEqual(peer.sio.call('message-with-ack', second,
                                       timeout=WAIT), second)
        # An ack with no arguments reaches the callback with none.
        self.assertIsNone(peer.sio.call('message-with-ack', timeout=WAIT))

    def test_binary_both_ways(self):
        peer = self.connected_peer()
        blob = bytes(range(256)) * 4
        args = (b'\x00\x01\x02' + token().encode(),
                {'image': blob,
                 'meta': {'name': token(), 'parts': [b'part-one', 'text',
                                                     b'\xff\xfe', b'']}},
                'plain', [b'\x80' * 3, 7])
        peer.sio.emit('message', args)
        self.assertEqual(peer.inbox.get('message-back'), args)

    def test_binary_call(self):
        peer = self.connected_peer()
        args = (token().encode(), {'inner': [b'\x00' * 10, token()]})
        self.assertEqual(peer.sio.call('message-with-ack', args,
                                       timeout=WAIT), args)

    def test_large_text_and_binary(self):
        peer = self.connected_peer()
        text = ('\u00e9\u4e2d' + token()) * 1200
        blob = bytes(range(256)) * 470
        peer.sio.emit('message', (text, blob))
        self.assertEqual(peer.inbox.get('message-back'), (text, blob))

    def test_server_to_client_ack(self):
        peer = self.connected_peer()
        requests = []

        def answer(*args):
            requests.append(args)
            return (args[0].upper(), args[1] + 1, {'echo': [args[0]]})

        peer.sio.on('server-ack-request', answer)
        word = token()
        peer.sio.emit('server-ack-please', (word, 41))
        self.assertEqual(peer.inbox.get('server-ack-result'),
                         (word.upper(), 42, {'echo': [word]}))
        self.assertEqual(requests, [(word, 41)])
        self.assertEqual(peer.inbox.pending('server-ack-timeout'), 0)

    def test_server_to_client_ack_with_binary(self):
        peer = self.connected_peer()

        def answer(*args):
            return (b'bin-' + args[0].encode(), {'raw': b'\x00\xff' + args[1]})

        peer.sio.on('server-ack-request', answer)
        word = token()
        peer.sio.emit('server-ack-please', (word, b'\x01\x02'))
        self.assertEqual(peer.inbox.get('server-ack-result'),
                         (b'bin-' + word.encode(),
                          {'raw': b'\x00\xff\x01\x02'}))

    def test_server_to_client_ack_without_value(self):
        peer = self.connected_peer()
        seen = []
        peer.sio.on('server-ack-request', lambda *args: seen.append(args))
        word = token()
        peer.sio.emit('server-ack-please', word)
        # The handler returns None, so the client acks with no argument.
        self.assertEqual(peer.inbox.get('server-ack-result'), ())
        self.assertEqual(seen, [(word,)])

    def test_two_namespaces_on_one_connection(self):
        auth = {'who': token()}
        peer = self.connected_peer(auth=auth, namespaces=('/', '/custom'))
        self.assertEqual(peer.inbox.get('auth', '/'), (auth,))
        self.assertEqual(peer.inbox.get('auth', '/custom'), (auth,))
        root_sid = peer.sio.get_sid('/')
        custom_sid = peer.sio.get_sid('/custom')
        self.assertTrue(root_sid and custom_sid)
        self.assertNotEqual(root_sid, custom_sid)

        custom_word, root_word = token(), token()
        peer.sio.emit('message', ('for-custom', custom_word),
                      namespace='/custom')
        self.assertEqual(peer.inbox.get('message-back', '/custom'),
                         ('for-custom', custom_word))
        peer.sio.emit('message', ('for-root', root_word))
        self.assertEqual(peer.inbox.get('message-back', '/'),
                         ('for-root', root_word))
        self.assertEqual(peer.inbox.pending('message-back', '/'), 0)
        self.assertEqual(peer.inbox.pending('message-back', '/custom'), 0)
        self.assertEqual(peer.sio.call('message-with-ack', (custom_word, 1),
                                       namespace='/custom', timeout=WAIT),
                         (custom_word, 1))

    def test_refused_auth(self):
        peer = self.peer()
        with self.assertRaises(socketio.exceptions.ConnectionError):
            peer.connect(auth={'reject': True}, wait_timeout=2)
        # 5.7.2 raises "One or more namespaces failed to connect"; the
        # server's reason reaches the connect_error handler.
        self.assertEqual(peer.inbox.get('connect_error'),
                         ({'message': 'Not authorized'},))
        self.assertFalse(peer.sio.connected)
        self.assertEqual(peer.inbox.pending('auth'), 0)
        # The same client is accepted once it stops asking to be refused.
        auth = {'reject': False, 'n': token()}
        peer.connect(auth=auth)
        self.assertEqual(peer.inbox.get('auth'), (auth,))

    def test_unknown_namespace_refused(self):
        peer = self.peer()
        with self.assertRaises(socketio.exceptions.ConnectionError):
            peer.connect(namespaces=('/', '/nope'), wait_timeout=2)
        self.assertEqual(peer.inbox.get('connect_error', '/nope'),
                         ({'message': 'Invalid namespace'},))
        self.assertEqual(peer.inbox.get('auth', '/'), ({},))
        self.assertEqual(peer.inbox.pending('connect_error', '/'), 0)

    def test_disconnect_then_connect_again(self):
        peer = self.peer()
        first = {'round': 1, 'id': token()}
        peer.connect(auth=first)
        self.assertEqual(peer.inbox.get('auth'), (first,))
        first_session = peer.sio.sid
        self.assertTrue(peer.close(), 'client loops still running')
        self.assertFalse(peer.sio.connected)
        self.assertEqual(peer.inbox.get('disconnect'), ())

        second = {'round': 2, 'id': token()}
        peer.connect(auth=second)
        self.assertEqual(peer.inbox.get('auth'), (second,))
        self.assertNotEqual(peer.sio.sid, first_session)
        self.assertEqual(peer.sio.transport(), self.FINAL)
        word = token()
        self.assertEqual(peer.sio.call('message-with-ack', word,
                                       timeout=WAIT), word)

    def test_server_disconnects_the_only_namespace(self):
        peer = self.connected_peer()
        peer.sio.emit('disconnect-me')
        self.assertEqual(peer.inbox.get('disconnect'), ())
        self.assertTrue(wait_until(lambda: not peer.sio.connected))

    def test_server_disconnects_one_of_two_namespaces(self):
        peer = self.connected_peer(namespaces=('/', '/custom'))
        session = peer.sio.sid
        peer.sio.emit('disconnect-me', namespace='/custom')
        self.assertEqual(peer.inbox.get('disconnect', '/custom'), ())
        # The Engine.IO session and the other namespace carry on.
        word = token()
        self.assertEqual(peer.sio.call('message-with-ack', word,
                                       timeout=WAIT), word)
        self.assertEqual(peer.sio.sid, session)
        self.assertEqual(peer.inbox.pending('disconnect', '/'), 0)

    def test_idle_connection_survives_ping_cycles(self):
        peer = self.connected_peer()
        # Six pings answered with pongs take longer than one ping timeout:
        # a server that ignored the pongs would have closed the session.
        self.assertTrue(peer.packets.wait_for(
            lambda log: log.received.count('PING') >= 6
            and log.sent.count('PONG') >= 6, timeout=4 * WAIT),
            'received %r' % peer.packets.received)
        self.assertTrue(peer.sio.connected)
        self.assertEqual(peer.sio.transport(), self.FINAL)
        word = token()
        self.assertEqual(peer.sio.call('message-with-ack', word,
                                       timeout=WAIT), word)


class PollingTest(ClientBehaviour, ServerTestCase):
    TRANSPORTS = ['polling']
    FINAL = 'polling'

    def check_transport_path(self, peer):
        self.assertTrue(peer.packets.noted('Polling connection accepted'))
        self.assertFalse(peer.packets.noted('Attempting WebSocket'))


class WebSocketTest(ClientBehaviour, ServerTestCase):
    TRANSPORTS = ['websocket']
    FINAL = 'websocket'

    def check_transport_path(self, peer):
        self.assertTrue(peer.packets.noted('WebSocket connection accepted'))
        self.assertFalse(peer.packets.noted('Polling connection accepted'))


class UpgradeTest(ClientBehaviour, ServerTestCase):
    TRANSPORTS = None
    FINAL = 'websocket'

    def check_transport_path(self, peer):
        # The OPEN over polling offered the upgrade, and the probe worked.
        self.assertTrue(peer.packets.noted('Polling connection accepted'))
        self.assertIn('websocket', peer.sio.eio.upgrades)
        self.assertTrue(peer.packets.noted('WebSocket upgrade was successful'))


if __name__ == '__main__':
    unittest.main()
