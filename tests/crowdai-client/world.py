"""The world of the crowdAI client suite: the real broker (BROKER_BIN) in broker mode on a
fresh data directory, with the private redis-server it starts itself; the registry seeded
with crowdai-admin (ADMIN_BIN); graders on namespace /grader with Debian's python3-socketio.
Stopping it SIGTERMs the broker and fails on a sanitizer report in its stderr, on an exit
status other than 0, or on a redis-server of the data directory still running."""
import datetime
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests
import socketio

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BROKER_BIN = os.environ.get('BROKER_BIN') or os.path.join(ROOT, 'build', 'debug', 'bin',
                                                          'crowdai-broker')
ADMIN_BIN = os.environ.get('ADMIN_BIN') or os.path.join(os.path.dirname(BROKER_BIN),
                                                        'crowdai-admin')

#: Bound of every single wait, in seconds (a wait that runs out is a failure).
WAIT = 20.0

# Reports printed by ASan, LSan or UBSan: a broker that printed one has a bug.
SANITIZER_REPORT = re.compile(r'ERROR: (Address|Leak)Sanitizer|runtime error:')
READY = re.compile(r'READY port=(\d+)')


def wait_until(predicate, timeout=WAIT, step=0.05, what='a condition'):
    """Calls `predicate` until it returns a true value, which it returns; AssertionError
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.0f s waiting for %s' % (timeout, what))
        time.sleep(step)


def iso_in(seconds):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def redis_pids(data_dir):
    """Pids of live redis-server processes whose working directory is data_dir/redis."""
    try:
        want = os.path.realpath(os.path.join(data_dir, 'redis'))
    except OSError:
        return []
    pids = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/comm' % name) as f:
                if not f.read().startswith('redis-server'):
                    continue
            if os.readlink('/proc/%s/cwd' % name) != want:
                continue
            with open('/proc/%s/stat' % name) as f:
                stat = f.read()
            if stat[stat.rindex(')') + 2] in 'ZX':
                continue
            pids.append(int(name))
        except OSError:
            continue
    return pids


class Broker:
    """crowdai-broker --port 0 --data DIR, up once it printed READY port=N."""

    def __init__(self, data_dir, args=()):
        self.data_dir = data_dir
        self.argv = [BROKER_BIN, '--port', '0', '--data', data_dir] + list(args)
        self.stderr_chunks = []
        self.proc = None
        self.port = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self, timeout=30.0):
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise RuntimeError('cannot start %s (%s): set BROKER_BIN' % (self.argv[0], exc))
        lines = queue.Queue()
        echo = bool(os.environ.get('SERVER_LOG'))

        def pump_stdout():
            for raw in iter(self.proc.stdout.readline, b''):
                lines.put(raw.decode('utf-8', 'replace'))
            lines.put(None)

        def pump_stderr():
            for raw in iter(self.proc.stderr.readline, b''):
                text = raw.decode('utf-8', 'replace')
                self.stderr_chunks.append(text)
                if echo:
                    sys.stderr.write(text)

        self.readers = [threading.Thread(target=pump_stdout, daemon=True),
                        threading.Thread(target=pump_stderr, daemon=True)]
        for reader in self.readers:
            reader.start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = ''
            if line is None or remaining <= 0:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise RuntimeError('%s: %s\n%s' % (
                    ' '.join(self.argv),
                    'exited with status %s before READY' % self.proc.returncode
                    if line is None else 'no READY within %.0f s' % timeout, self.stderr()))
            match = READY.search(line or '')
            if match:
                self.port = int(match.group(1))
                return self

    def stderr(self):
        return ''.join(self.stderr_chunks)

    def stop(self, grace=15.0):
        """SIGTERM (SIGKILL after `grace` s); returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=grace)
        for reader in self.readers:
            reader.join(timeout=grace)
        return self.proc.returncode


class Grader:
    """A grader on /grader (python-socketio's threaded Client): for each job it downloads
    the file from file_url with its grader key, checks it is the file the test expects
    (`expect`, bytes), reports progress (PROGRESS, with their messages) then complete with
    score_of(file); a file that is missing or different is reported as a non-retryable
    fail instead. Everything is recorded in `jobs`, `downloads` and `reports`."""

    PROGRESS = ((25, 'reading the predictions'),
                (50, 'scoring \u2026 half done \u2713 (\u00e9t\u00e9 \U0001F37A)'),
                (75, 'ranking'))

    def __init__(self, url, key, pools, capacity=1, expect=None, score_of=None):
        self.url = url
        self.key = key
        self.expect = expect
        self.score_of = score_of
        self.jobs = []
        self.downloads = []  # (status, bytes)
        self.reports = []    # (event, args, ack)
        self.failures = []
        self.done = threading.Event()
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.sio.on('job', self._on_job, namespace='/grader')
        self.sio.connect(url, namespaces=['/grader'], transports=['websocket'],
                         auth={'grader_key': key, 'pools': list(pools),
                               'capacity': capacity, 'name': 'crowdai-client-suite'},
                         wait_timeout=WAIT)
        self._threads = []

    def _on_job(self, job):
        self.jobs.append(job)
        worker = threading.Thread(target=self._grade, args=(job,), daemon=True)
        self._threads.append(worker)
        worker.start()

    def _report(self, event, args):
        ack = self.sio.call(event, args, namespace='/grader', timeout=WAIT)
        self.reports.append((event, args, ack))
        return ack

    def _grade(self, job):
        lease = {'submission_id': job['submission_id'], 'lease_token': job['lease_token']}
        try:
            if not job.get('file_url'):
                raise ValueError('the job has no file_url')
            res = requests.get(self.url + job['file_url'], timeout=WAIT,
                               headers={'Authorization': 'Bearer ' + self.key})
            self.downloads.append((res.status_code, res.content))
            if res.status_code != 200:
                raise ValueError('download answered %d' % res.status_code)
            if self.expect is not None and res.content != self.expect:
                raise ValueError('the downloaded file differs from the uploaded one')
            score = self.score_of(res.content)
            for percent, message in self.PROGRESS:
                self._report('progress', dict(lease, percent=percent, message=message))
            self._report('complete', dict(lease, score=score))
        except Exception as exc:  # reported to the broker, and kept for the test
            self.failures.append(repr(exc))
            try:
                self._report('fail', dict(lease, message=str(exc), retryable=False))
            except Exception as again:
                self.failures.append(repr(again))
        finally:
            self.done.set()

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()
        for worker in self._threads:
            worker.join(timeout=WAIT)


class World:
    """A data directory seeded with crowdai-admin, and the broker serving it."""

    def __init__(self, broker_args=()):
        # Short path: the private redis-server's unix socket path is limited to ~100 bytes.
        self.data_dir = tempfile.mkdtemp(prefix='pyc-')
        self.broker = Broker(self.data_dir, broker_args)
        self.graders = []

    def admin(self, *args):
        """crowdai-admin --data DIR ARGS; its stdout (AssertionError on a failure)."""
        done = subprocess.run([ADMIN_BIN, '--data', self.data_dir] + list(args),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError('crowdai-admin %s failed (%d): %s%s' % (
                ' '.join(args), done.returncode, done.stderr.decode(), done.stdout.decode()))
        return done.stdout.decode()

    def admin_json(self, *args):
        return json.loads(self.admin(*args, '--json'))

    def add_participant(self, name):
        out = self.admin_json('participant', 'add', name)
        return {'id': out['participant_id'], 'api_key': out['api_key'], 'name': name}

    def add_grader_key(self, name):
        return self.admin_json('grader-key', 'add', name)['grader_key']

    def create_challenge(self, challenge_id, pool, primary='score:desc'):
        self.admin('challenge', 'create', challenge_id, '--title', 'Challenge ' + challenge_id,
                   '--pool', pool, '--primary', primary)
        self.admin('round', 'add', challenge_id, '1', '--start', iso_in(-3600),
                   '--end', iso_in(86400))

    def submissions(self):
        return self.admin_json('submissions', '--limit', '0')

    def start(self):
        self.broker.start()
        return self

    def grader(self, key, pools, **kw):
        made = Grader(self.broker.url, key, pools, **kw)
        self.graders.append(made)
        return made

    def stop(self):
        """Stops graders and broker, removes the data directory; AssertionError when the
        broker printed a sanitizer report, did not exit 0, or left its redis-server."""
        problems = []
        for g in self.graders:
            try:
                g.close()
            except Exception as exc:
                problems.append('closing a grader: %r' % exc)
        code = self.broker.stop()
        if code is not None and code != 0:
            problems.append('the broker exited with status %s after SIGTERM' % code)
        if code is not None:
            try:
                wait_until(lambda: not redis_pids(self.data_dir), timeout=10,
                           what='the private redis-server to stop')
            except AssertionError:
                left = redis_pids(self.data_dir)
                problems.append('redis-server %s still ran after the broker stopped' % left)
                for pid in left:  # started by our broker: ours to clean up
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        report = SANITIZER_REPORT.search(self.broker.stderr())
        if report:
            problems.append('the broker printed a sanitizer report:\n'
                            + self.broker.stderr()[report.start():][:4000])
        if os.environ.get('CROWDAI_CLIENT_KEEP'):
            sys.stderr.write('data kept in %s\n' % self.data_dir)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if problems:
            raise AssertionError('\n'.join(problems))
