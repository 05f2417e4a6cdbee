"""Starts the server under test (crowdai-broker, or the reference Node server
when SERVER=reference) on a free port: the twin of tests/lib/server.mjs."""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

#: Which implementation the suites run against: 'broker' (the default) or
#: 'reference'.
SERVER_KIND = ('reference' if os.environ.get('SERVER') == 'reference'
               else 'broker')

_READY = re.compile(r'READY port=(\d+)')


def command(args):
    """The argv that starts the selected server with `args`."""
    if SERVER_KIND == 'reference':
        script = os.path.join(ROOT, 'tests', 'interop', 'reference-server.mjs')
        return ['node', script] + list(args)
    binary = os.environ.get('BROKER_BIN') or os.path.join(
        ROOT, 'build', 'debug', 'bin', 'crowdai-broker')
    return [binary] + list(args)


class ServerProcess:
    """A running server: its port, its URL and a way to stop it."""

    def __init__(self, proc, port, stdout_lines, stderr_chunks, readers):
        self.proc = proc
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self._stdout_lines = stdout_lines
        self._stderr_chunks = stderr_chunks
        self._readers = readers

    def stderr(self):
        """Everything the server wrote on standard error so far."""
        return ''.join(self._stderr_chunks)

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit
        status (negative when a signal ended the process, as subprocess
        reports it)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=grace)
        for reader in self._readers:
            reader.join(timeout=grace)
        report = SANITIZER_REPORT.search(self.stderr())
        if report:
            raise AssertionError('the server printed a sanitizer report:\n'
                                 + self.stderr()[report.start():][:4000])
        return self.proc.returncode


# Reports printed by ASan, LSan or UBSan: a server that printed one has a bug.
SANITIZER_REPORT = re.compile(r'ERROR: (Address|Leak)Sanitizer|runtime error:')


def _pump_lines(stream, sink):
    """Moves each line of `stream` into the queue `sink`; None ends it."""
    try:
        for raw in iter(stream.readline, b''):
            sink.put(raw.decode('utf-8', 'replace'))
    finally:
        sink.put(None)
        stream.close()


def _pump_stderr(stream, chunks):
    """Keeps the server's standard error (echoed when SERVER_LOG is set)."""
    echo = bool(os.environ.get('SERVER_LOG'))
    try:
        for raw in iter(stream.readline, b''):
            text = raw.decode('utf-8', 'replace')
            chunks.append(text)
            if echo:
                sys.stderr.write(text)
    finally:
        stream.close()


def start_server(extra_args=(), timeout=10.0):
    """Spawns the server with `--conformance --port 0` plus `extra_args` and
    returns a ServerProcess once it printed `READY port=<n>`; raises
    RuntimeError if that does not happen within `timeout` seconds."""
    argv = command(['--conformance', '--port', '0'] + list(extra_args))
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=ROOT)
    except OSError as exc:
        reason = 'cannot start %s (%s); set BROKER_BIN, or SERVER=reference'
        raise RuntimeError(reason % (argv[0], exc)) from None
    lines = queue.Queue()
    stderr_chunks = []
    readers = [
        threading.Thread(target=_pump_lines, args=(proc.stdout, lines),
                         daemon=True),
        threading.Thread(target=_pump_stderr,
                         args=(proc.stderr, stderr_chunks), daemon=True),
    ]
    for reader in readers:
        reader.start()

    def fail(reason):
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
        for reader in readers:
            reader.join(timeout=5)
        raise RuntimeError('%s: %s\n%s' % (' '.join(argv), reason,
                                           ''.join(stderr_chunks)))

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            fail('no READY line within %.1f s' % timeout)
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            proc.wait(timeout=5)
            fail('exited with status %s before READY' % proc.returncode)
        match = _READY.search(line)
        if match:
            return ServerProcess(proc, int(match.group(1)), lines,
                                 stderr_chunks, readers)
