"""crowdai 1.0.x (crowdAI/crowdai-client-py, base_challenge.py, upload_helpers.py and the
IEEE challenge classes), re-enacted for this suite on LegacySocketIO.

It does what the client does, in its order: the constructor connects and authenticates
(`authenticate_response` handler, a placeholder ack callback, wait_for_callbacks(10));
submit() asks for a presigned URL (GET without any header), PUTs the file with requests,
streamed from an object with read() and __len__ in 5000-byte chunks, then runs
execute_function("grade_submission", [{file_key, round}]): a handler on the event named
response_channel ("<challenge_id>::<uuid4>") that json.loads its one string argument and
renders it (ENQUEUED, RUNNING, PROGRESS_UPDATE, COMPLETE, INFO, TIMEOUT; anything else is a
"Malformed response"), and the ack callback that turns the array of final messages into
`data + {job_state: response_type, message}` each; submit() returns element 0 without
job_state.

Where the client would disconnect and raise at once (authenticate_response ERROR, a job
ERROR, a malformed message), this one records the exception the client would raise and
keeps polling until the ack arrives (or its bound runs out), so that the tests can check
what the broker still sent; then it raises that exception, with `.ack` set to the ack's
arguments (None when no ack came). Printed lines go to `output`, progress bars to `bars`.
"""
import copy
import json
import os
import uuid

import requests

from legacy_socketio import LegacySocketIO

CLIENT_VERSION = '1.0.22'
AUTH_SUCCESS = 'CrowdAI.Event.Authentication.SUCCESS'
AUTH_ERROR = 'CrowdAI.Event.Authentication.ERROR'
JOB = {name: 'CrowdAI.Event.Job.' + name for name in (
    'ENQUEUED', 'WAITING', 'RUNNING', 'PROGRESS_UPDATE', 'COMPLETE', 'ERROR', 'INFO',
    'TIMEOUT')}

#: Bounds of this suite's waits, in seconds: the client's own (10 s to authenticate,
#: 20000 s to execute) would make a broken broker hang the suite.
TIMEOUT_AUTHENTICATE = 10
TIMEOUT_EXECUTION = 60


class CrowdAIError(Exception):
    """The client's exceptions; `ack` holds the ack's arguments (see the module doc)."""
    ack = None


class CrowdAIAuthenticationError(CrowdAIError):
    pass


class CrowdAIExecuteFunctionError(CrowdAIError):
    pass


class CrowdAIAPINotAvailableError(CrowdAIError):
    pass


def config_for(port, host='127.0.0.1'):
    """crowdai/config.py pointed at the broker."""
    return {
        'remote_host': host,
        'remote_port': port,
        'TIMEOUT_AUTHENTICATE': TIMEOUT_AUTHENTICATE,
        'crowdai_remote_api': 'http://%s:%d/api/external_graders/' % (host, port),
    }


class ProgressBar:
    """What the client's tqdm(total=100) bar shows: its count, and each update."""

    def __init__(self):
        self.n = 0
        self.updates = []
        self.description = ''
        self.closed = False

    def update(self, diff):
        self.n += diff
        self.updates.append(self.n)


class UploadInChunks:
    """upload_helpers.upload_in_chunks: the file in chunks, reporting upload progress."""

    def __init__(self, filename, challenge, chunksize=1 << 13):
        self.filename = filename
        self.chunksize = chunksize
        self.totalsize = os.path.getsize(filename)
        self.challenge = challenge
        self.readsofar = 0
        self.chunks = 0

    def __iter__(self):
        with open(self.filename, 'rb') as file:
            while True:
                data = file.read(self.chunksize)
                if not data:
                    break
                self.readsofar += len(data)
                self.chunks += 1
                percent = self.readsofar * 1e2 / self.totalsize
                if 0 <= percent <= 100:
                    self.challenge.update_progress_tracker(0, percent)
                yield data

    def __len__(self):
        return self.totalsize


class IterableToFileAdapter:
    """upload_helpers.IterableToFileAdapter: read() hands out the next chunk, whatever the
    size asked; requests takes the Content-Length from __len__."""

    def __init__(self, iterable):
        self.iterator = iter(iterable)
        self.length = len(iterable)

    def read(self, size=-1):
        return next(self.iterator, b'')

    def __len__(self):
        return self.length


def obtain_presigned_url(config, api_key):
    """_obtain_presigned_url: GET <crowdai_remote_api><API_KEY>/presign, no header. Returns
    (json, response); raises CrowdAIAPINotAvailableError (with .response) unless 200."""
    response = requests.get(config['crowdai_remote_api'] + '{}/presign'.format(api_key))
    if response.status_code == 200:
        return response.json(), response
    error = CrowdAIAPINotAvailableError('Unable to connect to CrowdAI API.')
    error.response = response
    raise error


class BaseChallenge:
    """base_challenge.BaseChallenge on LegacySocketIO."""

    #: the challenge's client-side name
    CHALLENGE_ID = None

    #: every instance made, so that a test can close those whose constructor raised
    instances = []

    def __init__(self, api_key, config):
        BaseChallenge.instances.append(self)
        self.api_key = str(api_key).strip()
        self.challenge_id = self.CHALLENGE_ID
        self.config = config
        self.session_key = None
        self.aggregated_responses = False
        self.output = []          # the lines the client prints
        self.bars = []            # its progress bars, per data_sequence_no
        self.last_reported_progress = []
        self.channel_payloads = []  # every argument list received on the response channel
        self.messages = []        # each payload as json.loads read it
        self.auth_events = []     # the authenticate_response payloads
        self.auth_acked = None    # whether wait_for_callbacks ended with the ack
        self.exec_acked = None
        self.execute_ack = None   # the execute_function ack's arguments
        self._would_raise = None
        self.upload = None
        self.upload_response = None
        self.presign = None
        self.socketio = None
        self._connect()
        self._authenticate()

    # ---- what the client does where it would raise

    def _raise_later(self, error):
        """The client disconnects and raises here; see the module doc."""
        if self._would_raise is None:
            self._would_raise = error

    def _raise_if_any(self, ack):
        error, self._would_raise = self._would_raise, None
        if error is not None:
            error.ack = ack
            self.disconnect()
            raise error

    # ---- connection and authentication

    def _connect(self):
        self.socketio = LegacySocketIO(self.config['remote_host'], self.config['remote_port'])

    def disconnect(self):
        if self.socketio is not None:
            self.socketio.disconnect()

    def _authenticate_response(self, args):
        self.auth_events.append(copy.deepcopy(args))
        if args['response_type'] == AUTH_SUCCESS:
            self.session_key = args['session_token']
            self.output.append(AUTH_SUCCESS + ' : Authentication Successful')
        else:
            self.output.append(AUTH_ERROR + ' : ' + args['message'])
            self._raise_later(CrowdAIAuthenticationError(args['message']))

    def _authenticate_response_placeholder(self, args):
        # The client ignores it; it only must be called with exactly one argument.
        self.auth_ack = copy.deepcopy(args)

    def _authenticate(self):
        self.session_key = None
        self.auth_ack = None
        self.socketio.on('authenticate_response', self._authenticate_response)
        self.auth_ack_id = self.socketio.emit(
            'authenticate', {'API_KEY': self.api_key, 'challenge_id': self.challenge_id,
                             'client_version': CLIENT_VERSION},
            callback=self._authenticate_response_placeholder)
        self.auth_acked = self.socketio.wait_for_callbacks(self.config['TIMEOUT_AUTHENTICATE'])
        self._raise_if_any(self.auth_ack)
        if self.session_key is None:
            error = CrowdAIAuthenticationError('Authentication Timeout')
            error.ack = self.auth_ack
            self.disconnect()
            raise error

    # ---- execute_function

    def on_execute_function_response(self, channel_name, payload={}):
        self.channel_payloads.append((channel_name,) if payload == {} else
                                     (channel_name, payload))
        if payload == {}:  # the client's "hacky fix": one argument lands in channel_name
            payload = channel_name
        payload = json.loads(payload)
        self.messages.append(payload)
        job_state = payload['response_type']
        job_id = payload['job_id']
        sequence_no = payload['data_sequence_no']
        message = payload['message']
        if job_state == JOB['ERROR']:
            self._raise_later(CrowdAIExecuteFunctionError(message))
        elif job_state == JOB['ENQUEUED']:
            self.write_above_single_progress_bar(sequence_no, job_state + ' : ' + job_id)
        elif job_state == JOB['RUNNING']:
            self.write_above_single_progress_bar(sequence_no, job_state + ' : ' + job_id)
            self.update_single_progress_bar_description(sequence_no, job_id)
        elif job_state == JOB['PROGRESS_UPDATE']:
            self.update_progress_tracker(sequence_no, payload['data']['percent_complete'])
            self.update_single_progress_bar_description(sequence_no, job_id)
        elif job_state == JOB['COMPLETE']:
            self.update_progress_tracker(sequence_no, 100)
            self.write_above_single_progress_bar(sequence_no, job_state + ' : ' + job_id +
                                                 '\t OK')
            self.update_single_progress_bar_description(sequence_no, job_id)
        elif job_state == JOB['INFO']:
            self.write_above_single_progress_bar(
                sequence_no, job_state + ' : (' + job_id + ') ' + message)
        elif job_state == JOB['TIMEOUT']:
            self.write_above_single_progress_bar(
                sequence_no, job_state + ' : (' + job_id + ') ' + message)
        else:
            self.write_above_single_progress_bar(
                sequence_no, job_state + ' : (' + job_id + ') ' + str(message))
            self._raise_later(CrowdAIExecuteFunctionError(
                'Malformed response from server (%s). Please update your crowdai package, '
                'and if the problem still persists contact the server admins.' % job_state))

    def on_execute_function_response_complete(self, args):
        self.execute_ack = copy.deepcopy([args])  # before the client changes it
        self.close_all_progress_bars()
        aggregated = []
        for val in args:
            item = val['data']
            item['job_state'] = val['response_type']
            item['message'] = val['message']
            aggregated.append(item)
        self.aggregated_responses = aggregated
        return {}

    def execute_function(self, function_name, data, dry_run=False, parallel=False):
        self.response_channel = self.challenge_id + '::' + str(uuid.uuid4())
        self.aggregated_responses = False
        self.execute_ack = None
        self.instantiate_progress_bars(len(data))
        self.socketio.on(self.response_channel, self.on_execute_function_response)
        self.execute_request = {
            'response_channel': self.response_channel,
            'session_token': self.session_key,
            'api_key': self.api_key,
            'challenge_id': self.challenge_id,
            'function_name': function_name,
            'data': data,
            'dry_run': dry_run,
            'parallel': parallel,
        }
        self.execute_ack_id = self.socketio.emit(
            'execute_function', self.execute_request,
            callback=self.on_execute_function_response_complete)
        self.exec_acked = self.socketio.wait_for_callbacks(TIMEOUT_EXECUTION)
        self._raise_if_any(self.execute_ack)
        # The client then spins until the ack's callback has set the responses; here a
        # missing ack is a failure instead of a hang.
        if not self.aggregated_responses:
            raise AssertionError(
                'execute_function: no ack within %d s; channel messages so far: %r; '
                'unhandled events: %r' % (TIMEOUT_EXECUTION, self.messages,
                                          self.socketio.unhandled))
        return self.aggregated_responses

    # ---- progress rendering (tqdm stands in as ProgressBar)

    def instantiate_progress_bars(self, number):
        self.last_reported_progress = [0] * number
        self.bars = [ProgressBar() for _ in range(number)]

    def update_progress_tracker(self, seq_no, value):
        diff = 0
        if value > self.last_reported_progress[seq_no]:
            diff = value - self.last_reported_progress[seq_no]
            self.last_reported_progress[seq_no] = value
        self.update_single_progress_bar(seq_no, diff)

    def update_single_progress_bar(self, seq_no, diff):
        if seq_no != -1 and not 0 <= seq_no < len(self.last_reported_progress):
            return
        self.bars[seq_no].update(diff)

    def write_above_single_progress_bar(self, seq_no, line):
        self.output.append(line)

    def update_single_progress_bar_description(self, seq_no, line):
        if seq_no != -1 and not 0 <= seq_no < len(self.last_reported_progress):
            return
        self.bars[seq_no].description = line

    def close_all_progress_bars(self):
        for bar in self.bars:
            bar.closed = True

    # ---- the upload

    def _obtain_presigned_url(self):
        self.presign, self.presign_response = obtain_presigned_url(self.config, self.api_key)
        return self.presign

    def _upload(self, filename):
        response = self._obtain_presigned_url()
        url = response['presigned_url']
        file_key = response['s3_key']
        self.instantiate_progress_bars(1)
        self.upload = UploadInChunks(filename, self, chunksize=5000)
        # The client does not look at the answer; the tests do.
        self.upload_response = requests.put(url, data=IterableToFileAdapter(self.upload))
        self.upload_bar = self.bars[0]
        self.close_all_progress_bars()
        return file_key


class IEEEInvestmentRankingChallenge(BaseChallenge):
    """challenges/ieee_investment_ranking_challenge.py"""

    CHALLENGE_ID = 'IEEEInvestmentRankingChallenge'

    def submit(self, filename, round=1):
        assert round in [1, 2]
        file_key = self._upload(filename)
        result = self.execute_function('grade_submission',
                                       [{'file_key': file_key, 'round': round}])[0]
        del result['job_state']
        return result


class IEEEStockPredictionChallenge(BaseChallenge):
    """challenges/ieee_stock_prediction_challenge.py (its data has no round)"""

    CHALLENGE_ID = 'IEEEStockPredictionChallenge'

    def submit(self, filename):
        file_key = self._upload(filename)
        result = self.execute_function('grade_submission', [{'file_key': file_key}])[0]
        del result['job_state']
        return result
