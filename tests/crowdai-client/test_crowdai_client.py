"""crowdai 1.0.x on socketIO-client 0.7.x (re-enacted in crowdai_client.py and
legacy_socketio.py: EIO3 long polling in the binary framing) against the real broker: the
client's own flow from presign to score, and the errors it shows its user."""
import math
import os
import random
import tempfile
import unittest

import crowdai_client as cc
from world import World, wait_until

CHALLENGE = 'ieeeinvestmentrankingchallenge'  # the broker's id of IEEEInvestmentRankingChallenge
LONELY = 'ieeestockpredictionchallenge'       # IEEEStockPredictionChallenge: no grader serves it
POOL = 'ieee-pool'

world = None
who = {}


def setUpModule():
    global world
    world = World()
    try:
        who['grader_key'] = world.add_grader_key('crowdai-client-suite')
        who['ann'] = world.add_participant('ann')
        world.create_challenge(CHALLENGE, POOL)
        world.create_challenge(LONELY, 'nobody-grades-this')
        world.start()
    except BaseException:
        world.stop()
        raise


def tearDownModule():
    if world is not None:
        world.stop()


def predictions(rows=20000):
    """A prediction file the client would upload (random, so that its score cannot be
    guessed), and that score: the mean of its predictions, to 6 places."""
    rng = random.Random(os.urandom(16))
    values = [rng.random() for _ in range(rows)]
    text = 'id,prediction\n' + ''.join('%d,%.6f\n' % (i, v) for i, v in enumerate(values))
    return text.encode(), score_of(text.encode())


def score_of(content):
    """The grader's score of a prediction file."""
    lines = content.decode('utf-8').splitlines()[1:]
    return round(sum(float(line.split(',')[1]) for line in lines) / len(lines), 6)


class CrowdAIClientTest(unittest.TestCase):

    def setUp(self):
        self.config = cc.config_for(world.broker.port)
        self.addCleanup(self._close_clients)

    def _close_clients(self):
        while cc.BaseChallenge.instances:
            cc.BaseChallenge.instances.pop().disconnect()

    def prediction_file(self):
        content, score = predictions()
        fd, path = tempfile.mkstemp(prefix='preds-', suffix='.csv')
        with os.fdopen(fd, 'wb') as f:
            f.write(content)
        self.addCleanup(os.unlink, path)
        return path, content, score

    def grader(self, expect):
        g = world.grader(who['grader_key'], [POOL], expect=expect, score_of=score_of)
        self.addCleanup(g.close)
        return g

    def assert_ack_has_one_argument(self, client, ack_id):
        acks = [args for (got, args) in client.socketio.acks if got == ack_id]
        self.assertEqual(len(acks), 1, 'one ack %d: %r' % (ack_id, client.socketio.acks))
        self.assertEqual(len(acks[0]), 1, 'the ack carries one argument: %r' % (acks[0],))
        return acks[0][0]

    def test_submit_uploads_grades_and_returns_the_score(self):
        path, content, expected = self.prediction_file()
        g = self.grader(content)
        ann = who['ann']
        c = cc.IEEEInvestmentRankingChallenge(ann['api_key'], self.config)

        # authenticate: the authenticate_response event, then the ack with the same object.
        self.assertEqual(len(c.auth_events), 1)
        auth = c.auth_events[0]
        self.assertEqual(auth['response_type'], cc.AUTH_SUCCESS)
        self.assertTrue(auth['session_token'])
        self.assertTrue(c.auth_acked, 'the ack came: the client does not wait out its 10 s')
        self.assertEqual(self.assert_ack_has_one_argument(c, c.auth_ack_id), auth)

        result = c.submit(path)

        # presign (no header), then the file streamed to presigned_url in 5000-byte chunks.
        self.assertEqual(set(c.presign), {'message', 'participant_id', 's3_key',
                                          'presigned_url'})
        self.assertNotIn('Authorization', c.presign_response.request.headers)
        self.assertEqual(c.presign['participant_id'], ann['id'])
        self.assertTrue(c.presign['presigned_url'].startswith(world.broker.url + '/upload?'),
                        c.presign['presigned_url'])
        self.assertEqual(c.upload_response.status_code, 200, c.upload_response.text)
        self.assertEqual(c.upload.chunks, math.ceil(len(content) / 5000))
        self.assertEqual(c.upload_bar.n, 100)

        # The grader got the job with the client's element, downloaded the very file, scored
        # (its last ack may come a moment after the client's).
        wait_until(g.done.is_set, what='the grader to be done with its job')
        self.assertEqual(len(g.jobs), 1, g.jobs)
        job = g.jobs[0]
        self.assertEqual(job['data'], {'file_key': c.presign['s3_key'], 'round': 1})
        self.assertEqual((job['challenge_id'], job['round'], job['participant_id']),
                         (CHALLENGE, 1, ann['id']))
        self.assertEqual(g.failures, [])
        self.assertEqual(len(g.downloads), 1)
        self.assertEqual(g.downloads[0][0], 200)
        self.assertTrue(g.downloads[0][1] == content, 'the grader downloads the file byte '
                        'for byte')
        self.assertEqual([(event, ack) for event, _, ack in g.reports],
                         [('progress', {'ok': True})] * 3 + [('complete', {'ok': True})])

        # The response channel: one JSON string per event, in order, all of that job.
        self.assertTrue(c.channel_payloads)
        for args in c.channel_payloads:
            self.assertEqual(len(args), 1, 'one argument per event: %r' % (args,))
            self.assertIsInstance(args[0], str, 'each event is a JSON string')
        job_id = str(job['submission_id'])
        self.assertEqual([(m['response_type'], m['job_id'], m['data_sequence_no'])
                          for m in c.messages],
                         [(cc.JOB[t], job_id, 0) for t in (
                             'ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'PROGRESS_UPDATE',
                             'PROGRESS_UPDATE', 'COMPLETE')])
        progress = [m['data'] for m in c.messages if m['response_type'] ==
                    cc.JOB['PROGRESS_UPDATE']]
        self.assertEqual([(p['percent_complete'], p['message'], p['data_sequence_no'])
                          for p in progress],
                         [(pct, msg, 0) for pct, msg in g.PROGRESS])

        # What the user sees: the lines and the bar, as the client renders them.
        self.assertEqual(c.output, [
            cc.AUTH_SUCCESS + ' : Authentication Successful',
            cc.JOB['ENQUEUED'] + ' : ' + job_id,
            cc.JOB['RUNNING'] + ' : ' + job_id,
            cc.JOB['COMPLETE'] + ' : ' + job_id + '\t OK'])
        self.assertEqual(c.bars[0].updates, [25, 50, 75, 100])

        # The ack: one argument, the array of final messages; element 0 is the COMPLETE
        # message, and submit() returns its data with the message, without job_state.
        self.assertTrue(c.exec_acked)
        finals = self.assert_ack_has_one_argument(c, c.execute_ack_id)
        self.assertEqual(finals, [c.messages[-1]])
        self.assertEqual(finals[0]['data']['score'], expected)
        self.assertEqual(result['score'], expected)
        self.assertNotIn('job_state', result)
        self.assertEqual(result, dict(finals[0]['data'], message=finals[0]['message']))

        # socketIO-client would have delivered all of it: nothing on another namespace,
        # no binary packet, no event without a handler.
        self.assertEqual(c.socketio.warnings, [])
        self.assertEqual(c.socketio.unhandled, [])
        self.assertEqual(c.socketio.heartbeat_errors, [])

        # Exactly one submission, with that score in the registry.
        def mine():
            rows = [s for s in world.submissions()
                    if s['client_submission_id'].startswith(c.response_channel + '#')]
            return rows if rows and rows[0]['state'] == 'COMPLETE' else None
        rows = wait_until(mine, what='the submission to be COMPLETE in the registry')
        self.assertEqual([(r['submission_id'], r['participant_id'], r['challenge_id'],
                           r['score']) for r in rows],
                         [(job['submission_id'], ann['id'], CHALLENGE, expected)])

    def test_bad_api_key_gets_authentication_error_and_the_ack(self):
        with self.assertRaises(cc.CrowdAIAuthenticationError) as raised:
            cc.IEEEInvestmentRankingChallenge('0' * 64, self.config)
        error = raised.exception
        self.assertIn('Invalid API key', str(error))
        c = cc.BaseChallenge.instances[-1]
        self.assertEqual(len(c.auth_events), 1)
        event = c.auth_events[0]
        self.assertEqual(event['response_type'], cc.AUTH_ERROR)
        self.assertEqual(event['message'], str(error))
        self.assertIsNone(c.session_key)
        # The ack came too, with the same object: the client does not wait 10 s for it.
        self.assertTrue(c.auth_acked, 'no ack for authenticate')
        self.assertEqual(self.assert_ack_has_one_argument(c, c.auth_ack_id), event)
        self.assertEqual(error.ack, event)

    def test_no_grader_online_errors_and_submits_nothing(self):
        path, _, _ = self.prediction_file()
        ann = who['ann']
        c = cc.IEEEStockPredictionChallenge(ann['api_key'], self.config)
        self.assertEqual(c.auth_events[0]['response_type'], cc.AUTH_SUCCESS)
        with self.assertRaises(cc.CrowdAIExecuteFunctionError) as raised:
            c.submit(path)
        self.assertEqual(c.upload_response.status_code, 200, c.upload_response.text)
        message = str(raised.exception)
        self.assertRegex(message, 'No grader is online')
        self.assertRegex(message, 'nothing was submitted')
        # One ERROR on the channel; the ack still came, with one argument: [that message].
        self.assertEqual([m['response_type'] for m in c.messages], [cc.JOB['ERROR']])
        self.assertTrue(c.exec_acked, 'no ack for execute_function')
        finals = self.assert_ack_has_one_argument(c, c.execute_ack_id)
        self.assertEqual(len(finals), 1, finals)
        self.assertEqual((finals[0]['response_type'], finals[0]['data_sequence_no'],
                          finals[0]['message']), (cc.JOB['ERROR'], 0, message))
        self.assertEqual(finals, c.messages)
        self.assertEqual(raised.exception.ack, [finals])
        self.assertEqual([s for s in world.submissions() if s['challenge_id'] == LONELY], [],
                         'nothing was submitted')

    def test_presign_with_a_bad_key_is_refused(self):
        with self.assertRaises(cc.CrowdAIAPINotAvailableError) as raised:
            cc.obtain_presigned_url(self.config, 'f' * 64)
        response = raised.exception.response
        self.assertNotIn('Authorization', response.request.headers)
        self.assertEqual(response.status_code, 401, response.text)
        self.assertEqual(response.json().get('message'), 'Invalid API key')


if __name__ == '__main__':
    unittest.main()
