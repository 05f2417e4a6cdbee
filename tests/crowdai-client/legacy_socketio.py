"""The Socket.IO client of crowdai 1.0.x, as socketIO-client 0.7.x speaks it, written for
this suite: Engine.IO v3 over HTTP long polling only, on a requests.Session.

What it does, as socketIO-client 0.7 does (socketIO_client/__init__.py, transports.py,
parsers.py, heartbeats.py of invisibleroads/socketIO-client):

- the handshake is `GET /socket.io/?EIO=3&transport=polling&t=<ms>-0`, without `b64`, and
  only the FIRST packet of its answer is read (it must be the open packet); the rest of that
  payload is dropped, as the client drops it;
- every later request carries `EIO=3&transport=polling&sid=<sid>&t=<ms>-<n>` (n counts
  from 1 and is shared by GETs and POSTs); GETs time out after pingTimeout;
- payloads are in the binary (XHR2) framing both ways: per packet a type byte (0x00 for a
  string packet), the length in bytes as one byte per decimal digit, 0xFF, then the packet.
  POSTs carry one packet each, with `Content-Type: application/octet-stream`. The client
  can read nothing else: here any other framing (the `<len>:<packet>` text framing, a binary
  0x01 packet, a truncated payload, a length that is not the byte count) is a ProtocolError;
- the client pings (EIO3): a heartbeat thread POSTs `2` at once, then every pingInterval,
  and every second while the client waits (the pongs answer the held GET);
- the default namespace is joined implicitly (no CONNECT is sent for `/`); events are
  `42[...]`, with an ack id when a callback is given (`42<id>[...]`, ids 1, 2, ... per
  client); the server's acks `43<id>[...]` call that callback with the ack's arguments
  spread (`callback(*args)`); events of another namespace, or packets of unknown types, are
  not delivered;
- `wait(seconds, for_callbacks=True)` polls until no ack callback is pending.

Unlike the real client, it never upgrades to WebSocket (the suite is about polling), keeps a
log of everything on the wire for the tests, and an exception raised by a callback
propagates out of wait() as in the real client.
"""
import copy
import json
import threading
import time

import requests

ENGINEIO_PROTOCOL = 3
HANDSHAKE_TIMEOUT = 20

# Engine.IO packet types
OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = range(7)
# Socket.IO packet types
CONNECT, DISCONNECT, EVENT, ACK, ERROR, BINARY_EVENT, BINARY_ACK = range(7)


class ProtocolError(AssertionError):
    """The server answered something socketIO-client 0.7 cannot read."""


class ConnectionFailed(AssertionError):
    """A request failed or did not answer 200 (socketIO-client's ConnectionError)."""


class PollTimeout(Exception):
    """A GET timed out (socketIO-client's TimeoutError: swallowed by wait())."""


def encode_payload(packets):
    """The XHR2 binary framing of [(eio_type, text)], as parsers.encode_engineIO_content."""
    content = bytearray()
    for packet_type, packet_data in packets:
        text = (str(packet_type) + packet_data).encode('utf-8')
        content.append(0)
        content.extend(ord(c) - 48 for c in str(len(text)))
        content.append(255)
        content.extend(text)
    return bytes(content)


def decode_payload(content):
    """[(eio_type, text)] from an XHR2 binary payload of string packets; ProtocolError on
    anything else (socketIO-client 0.7 would misread it or read nothing)."""
    packets = []
    i, n = 0, len(content)
    if n == 0:
        raise ProtocolError('empty polling payload')
    while i < n:
        kind = content[i]
        if kind != 0:
            raise ProtocolError('packet %d at byte %d: type byte %#04x, not 0x00 (a string '
                                'packet); payload %r' % (len(packets), i, kind, content[:200]))
        i += 1
        digits = []
        while i < n and content[i] != 0xFF:
            if content[i] > 9:
                raise ProtocolError('length digit %#04x at byte %d; payload %r'
                                    % (content[i], i, content[:200]))
            digits.append(str(content[i]))
            i += 1
        if i >= n or not digits:
            raise ProtocolError('no 0xFF after the length digits; payload %r' % content[:200])
        i += 1
        length = int(''.join(digits))
        if length == 0 or i + length > n:
            raise ProtocolError('declared length %d bytes, %d left; payload %r'
                                % (length, n - i, content[:200]))
        raw = bytes(content[i:i + length])
        i += length
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise ProtocolError('packet is not UTF-8 (its length must count bytes): %s; %r'
                                % (exc, raw[:200])) from None
        if not text[0].isdigit() or int(text[0]) > NOOP:
            raise ProtocolError('engine.io packet type %r in %r' % (text[0], text[:200]))
        packets.append((int(text[0]), text[1:]))
    return packets


def parse_socketio_data(data):
    """(path, ack_id, args) as parsers.parse_socketIO_packet_data reads them."""
    path = ''
    if data.startswith('/'):
        if ',' in data:
            path, data = data.split(',', 1)
        else:
            path, data = data, ''
    ack_id = None
    if '[' in data:
        head, rest = data.split('[', 1)
        try:
            ack_id = int(head)
        except ValueError:
            ack_id = None
        data = '[' + rest
    try:
        args = json.loads(data)
    except ValueError:
        args = []
    if not isinstance(args, list):
        args = [args]
    return path, ack_id, args


class _Heartbeat(threading.Thread):
    """heartbeats.HeartbeatThread: sends a ping now, then every relax interval, or every
    hurry interval (1 s) while the client waits."""

    daemon = True

    def __init__(self, send, relax, hurry):
        super().__init__(name='legacy-socketio-heartbeat')
        self._send = send
        self._relax = relax
        self._hurry = hurry
        self._adrenaline = threading.Event()
        self._rest = threading.Event()
        self._halt = threading.Event()
        self.errors = []

    def run(self):
        while not self._halt.is_set():
            try:
                self._send()
            except PollTimeout:
                pass
            except ConnectionFailed as exc:
                self.errors.append(str(exc))
                return
            interval = self._hurry if self._adrenaline.is_set() else self._relax
            self._rest.wait(interval)

    def hurry(self):
        self._adrenaline.set()
        self._rest.set()
        self._rest.clear()

    def relax(self):
        self._adrenaline.clear()

    def halt(self):
        self._rest.set()
        self._halt.set()


class LegacySocketIO:
    """SocketIO(host, port) of socketIO-client 0.7.x on the polling transport.

    Wire log (for the tests): `sent` holds every packet POSTed as (eio_type, text);
    `received` every packet read as (eio_type, text); `responses` the (status,
    content-type, body) of every GET; `unhandled` the events that had no handler."""

    def __init__(self, host, port, hurry_interval=1.0):
        self.http_url = 'http://%s:%d/socket.io/' % (host, port)
        self.session = requests.Session()
        self._callbacks = {}
        self._ack_id = 0
        self._handlers = {}
        self._index = 0
        self._index_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.sent = []
        self.received = []
        self.responses = []
        self.acks = []        # (ack_id, args) of every ack the server sent
        self.unhandled = []   # (event, args) without a handler
        self.warnings = []    # what socketIO-client would only log
        self.opened = False
        self._handshake()
        self._heartbeat = _Heartbeat(self._ping, self.ping_interval, hurry_interval)
        self._heartbeat.start()

    # ---- transport

    def _timestamp(self):
        with self._index_lock:
            stamp = '%d-%d' % (int(time.time() * 1000), self._index)
            self._index += 1
        return stamp

    def _params(self):
        params = {'EIO': ENGINEIO_PROTOCOL, 'transport': 'polling'}
        if self.opened:
            params['sid'] = self.sid
        params['t'] = self._timestamp()
        return params

    def _request(self, method, **kw):
        try:
            response = method(self.http_url, stream=True, **kw)
        except requests.exceptions.Timeout as exc:
            raise PollTimeout(str(exc)) from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailed('request failed: %s' % exc) from None
        body = response.content
        if response.status_code != 200:
            raise ConnectionFailed('unexpected status code (%s %r)'
                                   % (response.status_code, body[:300]))
        return response, body

    def _get(self, timeout=None):
        response, body = self._request(self.session.get, params=self._params(),
                                       timeout=timeout)
        self.responses.append((response.status_code, response.headers.get('Content-Type'),
                               body))
        packets = decode_payload(body)
        self.received.extend(packets)
        return packets

    def _post(self, eio_type, data=''):
        with self._send_lock:
            body = encode_payload([(eio_type, data)])
            self._request(self.session.post, params=self._params(), data=body,
                          headers={'content-type': 'application/octet-stream'},
                          timeout=self.ping_timeout)
            self.sent.append((eio_type, data))

    def _handshake(self):
        # (the client sets no timeout here; a bound keeps a silent broker from hanging us)
        packets = self._get(timeout=HANDSHAKE_TIMEOUT)
        # socketIO-client reads only the first packet of the handshake's answer.
        eio_type, data = packets[0]
        if eio_type != OPEN:
            raise ProtocolError('the handshake answered %r, not an open packet' % (packets,))
        info = json.loads(data)
        self.sid = info['sid']
        self.ping_interval = info['pingInterval'] / 1000.0
        self.ping_timeout = info['pingTimeout'] / 1000.0
        self.upgrades = info['upgrades']
        self.open_packet = info
        self.opened = True
        self._index = 1  # the session's transport counts its requests from 1

    def _ping(self):
        self._post(PING)

    # ---- socket.io

    def on(self, event, callback):
        """A handler for a server event on `/` (namespace.on)."""
        self._handlers[event] = callback

    def emit(self, event, *args, callback=None):
        """`42[event, *args]`, with the next ack id when callback is given; returns it."""
        ack_id = None
        if callback is not None:
            self._ack_id += 1
            ack_id = self._ack_id
            self._callbacks[ack_id] = callback
        payload = json.dumps([event] + list(args), ensure_ascii=False)
        self._post(MESSAGE, str(EVENT) + ('' if ack_id is None else str(ack_id)) + payload)
        return ack_id

    @property
    def has_ack_callback(self):
        return bool(self._callbacks)

    def wait(self, seconds, for_callbacks=False):
        """Polls for `seconds` at most; with for_callbacks, stops once no ack callback is
        pending. Returns True when it stopped for that reason, False when time ran out."""
        self._heartbeat.hurry()
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if for_callbacks and not self.has_ack_callback:
                    return True
                try:
                    packets = self._get(timeout=self.ping_timeout)
                except PollTimeout:
                    continue
                for packet in packets:
                    self._process(packet)
            return for_callbacks and not self.has_ack_callback
        finally:
            self._heartbeat.relax()

    def wait_for_callbacks(self, seconds):
        return self.wait(seconds, for_callbacks=True)

    def _process(self, packet):
        eio_type, data = packet
        if eio_type == PING:
            self._post(PONG, data)
            return
        if eio_type != MESSAGE:
            return  # open, close, pong, upgrade, noop: only logged by the client
        if not data or not data[0].isdigit():
            raise ProtocolError('socket.io packet %r' % data)
        sio_type, body = int(data[0]), data[1:]
        path = ''
        if body.startswith('/'):
            path = body.split(',', 1)[0]
        if path:
            self.warnings.append('undefined socket.io namespace (%s): %r' % (path, data))
            return
        if sio_type == EVENT:
            _, ack_id, args = parse_socketio_data(body)
            if not args:
                self.warnings.append('missing event name: %r' % data)
                return
            event = args.pop(0)
            if ack_id is not None:
                args.append(lambda *a, _id=ack_id: self._post(
                    MESSAGE, str(ACK) + str(_id) + json.dumps(list(a), ensure_ascii=False)))
            handler = self._handlers.get(event)
            if handler is None:
                self.unhandled.append((event, args))
                return
            handler(*args)
        elif sio_type == ACK:
            _, ack_id, args = parse_socketio_data(body)
            self.acks.append((ack_id, copy.deepcopy(args)))
            callback = self._callbacks.pop(ack_id, None)
            if callback is not None:
                callback(*args)
        elif sio_type in (BINARY_EVENT, BINARY_ACK):
            self.warnings.append('[not implemented] binary packet %r' % data)
        # CONNECT, DISCONNECT and ERROR only flag the namespace or log in the client

    def disconnect(self):
        """What the client's disconnect() does on `/`: stops the heartbeat and POSTs the
        Engine.IO close packet."""
        self._heartbeat.halt()
        if not self.opened:
            return
        try:
            self._post(CLOSE)
        except (ConnectionFailed, PollTimeout):
            pass
        self.opened = False
        self._heartbeat.join(timeout=5)
        self.session.close()

    @property
    def heartbeat_errors(self):
        return list(self._heartbeat.errors)
