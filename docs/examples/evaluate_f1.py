#!/usr/bin/env python3
"""An example crowdAI evaluator (Python 3, standard library only).

Scores a prediction CSV against an answer CSV, both with a header:

  --metric f1    (the default) classification, columns id,label:
                 score = macro F1 over every label seen in either file,
                 score_secondary = accuracy;
  --metric rmse  regression, columns id,value:
                 score = root mean squared error, score_secondary = mean absolute error.

It follows the evaluator contract of docs/evaluator.md: progress and info lines on stdout,
the result as one JSON object on file descriptor CROWDAI_RESULT_FD (3), errors on stderr
with a non-zero exit status. Run by hand (no fd 3), it prints the result as its last line.

Usage: evaluate_f1.py [--metric f1|rmse] [PREDICTIONS [ANSWERS]]
       (the files default to $CROWDAI_SUBMISSION_FILE and $CROWDAI_ANSWER_FILE)
"""

import argparse
import csv
import json
import math
import os
import sys


class EvaluationError(Exception):
    """A problem with the submission, explained to the participant."""


def progress(percent, message=""):
    print(f"progress {percent} {message}".rstrip(), flush=True)


def info(message):
    print(f"info {message}", flush=True)


def read_table(path, column, what):
    """Reads a CSV file with columns id and `column` into {id: value}."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            names = reader.fieldnames or []
            if "id" not in names or column not in names:
                raise EvaluationError(
                    f"the {what} file must have the columns id,{column} "
                    f"(it has: {','.join(names) or 'nothing'})")
            rows = {}
            for line, row in enumerate(reader, start=2):
                key = (row["id"] or "").strip()
                if key in rows:
                    raise EvaluationError(f"the {what} file has id {key} twice (line {line})")
                rows[key] = (row[column] or "").strip()
            return rows
    except OSError as e:
        raise EvaluationError(f"cannot read the {what} file: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise EvaluationError(f"the {what} file is not UTF-8 text") from e


def paired(predictions, answers):
    """The (answer, prediction) pairs, in the answer file's order; every id exactly once."""
    missing = [k for k in answers if k not in predictions]
    if missing:
        raise EvaluationError(
            f"the predictions lack {len(missing)} id(s), the first being {missing[0]}")
    extra = [k for k in predictions if k not in answers]
    if extra:
        raise EvaluationError(
            f"the predictions have {len(extra)} unknown id(s), the first being {extra[0]}")
    if not answers:
        raise EvaluationError("the answer file has no rows")
    return [(answers[k], predictions[k], k) for k in answers]


def each_with_progress(pairs):
    """Yields the pairs, reporting progress from 10% to 90% about four times."""
    step = max(1, len(pairs) // 4)
    for i, pair in enumerate(pairs, start=1):
        yield pair
        if i % step == 0 or i == len(pairs):
            progress(10 + 80 * i // len(pairs), f"scored {i} of {len(pairs)} rows")


def score_f1(pairs):
    counts = {}  # label -> [true positives, false positives, false negatives]
    correct = 0
    for answer, predicted, _ in each_with_progress(pairs):
        for label in (answer, predicted):
            counts.setdefault(label, [0, 0, 0])
        if answer == predicted:
            counts[answer][0] += 1
            correct += 1
        else:
            counts[predicted][1] += 1
            counts[answer][2] += 1
    f1 = [2 * tp / (2 * tp + fp + fn) for tp, fp, fn in counts.values()]
    return {"score": sum(f1) / len(f1), "score_secondary": correct / len(pairs),
            "metric": "macro_f1", "labels": len(counts), "rows": len(pairs)}


def number(text, key):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise EvaluationError(f"the value for id {key} is not a number: {text!r}")
    return value


def score_rmse(pairs):
    squares = 0.0
    absolute = 0.0
    for answer, predicted, key in each_with_progress(pairs):
        error = number(predicted, key) - number(answer, key)
        squares += error * error
        absolute += abs(error)
    return {"score": math.sqrt(squares / len(pairs)), "score_secondary": absolute / len(pairs),
            "metric": "rmse", "rows": len(pairs)}


def write_result(result):
    """Writes the result to fd CROWDAI_RESULT_FD, or prints it when that fd is not open."""
    text = json.dumps(result)
    fd = int(os.environ.get("CROWDAI_RESULT_FD", "3"))
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text + "\n")
    except OSError:
        print(text, flush=True)


def main():
    parser = argparse.ArgumentParser(description="Example crowdAI evaluator")
    parser.add_argument("--metric", choices=("f1", "rmse"), default="f1")
    parser.add_argument("predictions", nargs="?", default=os.environ.get("CROWDAI_SUBMISSION_FILE"))
    parser.add_argument("answers", nargs="?", default=os.environ.get("CROWDAI_ANSWER_FILE"))
    args = parser.parse_args()
    if not args.predictions or not args.answers:
        parser.error("give the prediction and answer files (or set CROWDAI_SUBMISSION_FILE "
                     "and CROWDAI_ANSWER_FILE)")
    column = "label" if args.metric == "f1" else "value"
    try:
        progress(0, "reading the files")
        answers = read_table(args.answers, column, "answer")
        predictions = read_table(args.predictions, column, "prediction")
        info(f"read {len(predictions)} predictions for {len(answers)} answers")
        progress(10, "files read")
        pairs = paired(predictions, answers)
        result = score_f1(pairs) if args.metric == "f1" else score_rmse(pairs)
    except EvaluationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    progress(100, "done")
    write_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
