#!/usr/bin/python3
"""The demo grader that `make run` starts: connects to the broker's /grader namespace and
scores each submission's prediction CSV (id,label) against demo/answers.csv, reporting
progress as it goes. Primary score: F1 of label 1; secondary: accuracy."""
import argparse
import csv
import io
import os
import sys
import threading
import time

import socketio

HERE = os.path.dirname(os.path.abspath(__file__))


def load_labels(text):
    """Maps id -> label from CSV text with a header "id,label"; raises ValueError."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:2]] != ['id', 'label']:
        raise ValueError('the file must start with the header "id,label"')
    labels = {}
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) < 2:
            raise ValueError('line %d: expected "id,label"' % line_no)
        labels[row[0].strip()] = row[1].strip()
    return labels


def score(answers, predictions, report):
    """F1 of the positive class and accuracy, calling report(percent) as it goes."""
    tp = fp = fn = correct = 0
    ids = list(answers)
    for n, key in enumerate(ids, start=1):
        truth, guess = answers[key], predictions.get(key)
        correct += guess == truth
        tp += truth == '1' and guess == '1'
        fp += truth != '1' and guess == '1'
        fn += truth == '1' and guess != '1'
        if n % max(1, len(ids) // 10) == 0:
            report(int(100 * n / len(ids)))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return round(f1, 6), round(correct / len(ids), 6)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--url', default='http://127.0.0.1:8080')
    parser.add_argument('--key', default=os.environ.get('CROWDAI_GRADER_KEY'))
    parser.add_argument('--pool', default='demo')
    parser.add_argument('--answers', default=os.path.join(HERE, 'answers.csv'))
    parser.add_argument('--step-delay', type=float, default=0.2,
                        help='seconds between progress reports (to make them visible)')
    args = parser.parse_args()
    if not args.key:
        sys.exit('demo_grader: give --key or CROWDAI_GRADER_KEY')
    with open(args.answers, encoding='utf-8') as f:
        answers = load_labels(f.read())

    sio = socketio.Client(reconnection=True, reconnection_delay_max=5)

    def grade(job):
        sub, token = job['submission_id'], job['lease_token']

        def report(percent):
            sio.emit('progress', {'submission_id': sub, 'lease_token': token,
                                  'percent': percent,
                                  'message': 'scored %d%% of the rows' % percent},
                     namespace='/grader')
            time.sleep(args.step_delay)
        try:
            data = job.get('data')
            text = data if isinstance(data, str) else (data or {}).get('csv', '')
            predictions = load_labels(text)
            missing = len(set(answers) - set(predictions))
            if missing:
                sio.emit('info', {'submission_id': sub, 'lease_token': token,
                                  'message': '%d ids have no prediction; they count as '
                                             'wrong' % missing}, namespace='/grader')
            f1, accuracy = score(answers, predictions, report)
            sio.emit('complete', {'submission_id': sub, 'lease_token': token,
                                  'score': f1, 'score_secondary': accuracy},
                     namespace='/grader')
        except (ValueError, TypeError, AttributeError) as e:
            sio.emit('fail', {'submission_id': sub, 'lease_token': token,
                              'message': 'Could not read your predictions: %s' % e,
                              'retryable': False}, namespace='/grader')

    @sio.on('job', namespace='/grader')
    def on_job(job):
        threading.Thread(target=grade, args=(job,), daemon=True).start()

    @sio.on('connect', namespace='/grader')
    def on_connect():
        print('demo_grader: connected, grading pool %r' % args.pool, flush=True)

    sio.connect(args.url, namespaces=['/grader'], transports=['websocket'],
                auth={'grader_key': args.key, 'pools': [args.pool], 'capacity': 2,
                      'name': 'demo-grader'})
    sio.wait()


if __name__ == '__main__':
    main()
