"""Shared pieces of the python-socketio interop tests: a socketio.Client that
records what it receives, a log of its Engine.IO packets, bounded waits."""
import logging
import queue
import threading
import time
import unittest

import socketio

from server import start_server

#: Upper bound for every single wait in the suite, in seconds.
WAIT = 5.0

#: Timings for the servers of these suites: the conformance ping interval, with
#: a ping timeout that leaves room for a busy machine. python-engineio's
#: WebSocket reader gives up after pingInterval + pingTimeout of silence.
TIMINGS = ['--ping-interval', '300', '--ping-timeout', '1000']

#: Namespaces whose events every Peer records.
NAMESPACES = ('/', '/custom', '/nope')

#: Events every Peer records, in each of NAMESPACES.
RECORDED = ('connect', 'connect_error', 'disconnect', 'auth',
            'message-back', 'server-ack-result', 'server-ack-timeout')


def wait_until(predicate, timeout=WAIT, step=0.05):
    """Calls `predicate` every `step` seconds until it is true or `timeout`
    passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        threading.Event().wait(step)


class PacketLog(logging.Handler):
    """Collects what python-engineio logs at INFO level: the type of every
    packet it receives and sends, and its other notes (upgrade...)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self._cond = threading.Condition()
        self.received = []
        self.sent = []
        self.notes = []

    def emit(self, record):
        text = str(record.msg)
        with self._cond:
            if text.startswith('Received packet'):
                self.received.append(record.args[0])
            elif text.startswith('Sending packet'):
                self.sent.append(record.args[0])
            else:
                self.notes.append(record.getMessage())
            self._cond.notify_all()

    def wait_for(self, predicate, timeout=WAIT):
        """Waits until `predicate(self)` holds; returns whether it did."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def noted(self, prefix):
        """Whether a note starting with `prefix` was logged."""
        with self._cond:
            return any(note.startswith(prefix) for note in self.notes)


class Inbox:
    """One queue of argument tuples per (namespace, event)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queues = {}

    def _queue(self, namespace, event):
        with self._lock:
            return self._queues.setdefault((namespace, event), queue.Queue())

    def recorder(self, namespace, event):
        """A handler that stores its arguments for `get`."""
        target = self._queue(namespace, event)
        return lambda *args: target.put(args)

    def get(self, event, namespace='/', timeout=WAIT):
        """The arguments of the next `event` on `namespace`; AssertionError
        if none arrives within `timeout` seconds."""
        try:
            return self._queue(namespace, event).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('no %r on %s within %.1f s'
                                 % (event, namespace, timeout)) from None

    def pending(self, event, namespace='/'):
        """How many `event`s on `namespace` arrived and were not taken yet."""
        return self._queue(namespace, event).qsize()


class Peer:
    """A threaded socketio.Client (no automatic reconnection) wired to an
    Inbox and a PacketLog."""

    def __init__(self, url, transports=None):
        self.url = url
        self.transports = transports
        self.inbox = Inbox()
        self.packets = PacketLog()
        eio_logger = logging.Logger('engineio-peer', logging.INFO)
        eio_logger.addHandler(self.packets)
        self.sio = socketio.Client(reconnection=False, handle_sigint=False,
                                   engineio_logger=eio_logger)
        for namespace in NAMESPACES:
            for event in RECORDED:
                self.sio.on(event, self.inbox.recorder(namespace, event),
                            namespace=namespace)

    def connect(self, auth=None, namespaces=('/',), wait_timeout=WAIT):
        """Connects (again) with this peer's transports."""
        self._join_loops()
        self.sio.connect(self.url, auth=auth, transports=self.transports,
                         namespaces=list(namespaces),
                         wait_timeout=wait_timeout)

    def close(self):
        """Disconnects and waits for the client's background loops to end."""
        self.sio.disconnect()
        return self._join_loops()

    def _join_loops(self):
        """Waits for python-engineio's read and write loops of the previous
        connection: a polling read loop still running would otherwise poll
        the next session too. Returns whether they all ended."""
        ended = True
        eio = self.sio.eio
        for task in (eio.read_loop_task, eio.write_loop_task):
            if task is not None and task.is_alive():
                task.join(timeout=2 * WAIT)
                ended = ended and not task.is_alive()
        return ended


class ServerTestCase(unittest.TestCase):
    """One server per test class, started with SERVER_ARGS; every Peer made
    with `peer()` is closed after its test."""

    SERVER_ARGS = TIMINGS
    TRANSPORTS = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = start_server(cls.SERVER_ARGS)
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        super().setUp()
        self._peers = []
        self.addCleanup(self._close_peers)

    def _close_peers(self):
        for peer in self._peers:
            peer.close()

    def peer(self, transports=None):
        """A new, not yet connected Peer for this class's server."""
        made = Peer(self.server.url,
                    transports if transports is not None else self.TRANSPORTS)
        self._peers.append(made)
        return made

    def connected_peer(self, auth=None, namespaces=('/',), transports=None):
        """A Peer connected to `namespaces`."""
        made = self.peer(transports)
        made.connect(auth=auth, namespaces=namespaces)
        return made
