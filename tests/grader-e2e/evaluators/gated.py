#!/usr/bin/env python3
"""A test evaluator for crowdai-grader's end-to-end tests. It starts a child that sleeps, says
both pids in an info line ("pids <evaluator> <child> tag=<RUNNER_TAG>"), then, when the
submission's data names a "gate", waits until that file exists in $GATE_DIR; then it scores
the data's "score" (default 1)."""
import json
import os
import subprocess
import time

data = json.loads(os.environ.get("CROWDAI_DATA") or "null") or {}
child = subprocess.Popen(["sleep", "1000"])
print(f"info pids {os.getpid()} {child.pid} tag={os.environ.get('RUNNER_TAG', '')}", flush=True)
print("progress 10 waiting for the gate", flush=True)
if "gate" in data:
    gate = os.path.join(os.environ["GATE_DIR"], data["gate"])
    while not os.path.exists(gate):
        time.sleep(0.02)
print("progress 90 through the gate", flush=True)
with os.fdopen(3, "w") as out:
    json.dump({"score": data.get("score", 1)}, out)
