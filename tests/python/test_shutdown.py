"""The server's SIGTERM path seen by python-socketio clients: every client,
polling or WebSocket, is disconnected and the process exits with status 0."""
import unittest

from server import start_server
from support import TIMINGS, WAIT, Peer


class ShutdownTest(unittest.TestCase):

    def setUp(self):
        self.server = start_server(TIMINGS)
        self.addCleanup(self.server.stop)
        self.peers = []
        self.addCleanup(self._close_peers)

    def _close_peers(self):
        for peer in self.peers:
            peer.close()

    def test_sigterm_disconnects_clients_and_exits_zero(self):
        for transports in (['polling'], ['websocket'], None):
            peer = Peer(self.server.url, transports)
            self.peers.append(peer)
            peer.connect()
            self.assertEqual(peer.inbox.get('auth'), ({},))
        self.assertEqual(self.server.stop(), 0, self.server.stderr())
        for peer in self.peers:
            self.assertEqual(peer.inbox.get('disconnect', timeout=2 * WAIT),
                             (), 'transports %r' % peer.transports)
            self.assertFalse(peer.sio.connected)


if __name__ == '__main__':
    unittest.main()
