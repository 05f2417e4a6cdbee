"""Runs the crowdAI client suite (unittest discovery here) with Debian's /usr/bin/python3;
prints a final `N passed, N failed` line and exits non-zero on a failure, an error (a
sanitizer report or a redis-server left behind shows up as one) or a skip."""
import importlib
import os
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class CountingResult(unittest.TextTestResult):
    """A TextTestResult that also counts the tests that passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main():
    for module in ('requests', 'socketio'):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            print('cannot import %s (%s): run with /usr/bin/python3, which sees Debian\'s '
                  'python3-requests and python3-socketio' % (module, exc))
            print('0 passed, 1 failed')
            return 1
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    failed = (len(result.failures) + len(result.errors) + len(result.skipped)
              + len(result.unexpectedSuccesses))
    if result.skipped:
        print('skipped tests count as failures in this suite')
    print('%d passed, %d failed' % (result.passed, failed))
    return 1 if failed or not result.passed else 0


if __name__ == '__main__':
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    leftovers = [t.name for t in threading.enumerate()
                 if t is not threading.main_thread() and not t.daemon]
    if leftovers:
        # Client threads that outlived their test must not hang the run.
        sys.stderr.write('threads still running at exit: %s\n' % ', '.join(leftovers))
        os._exit(code)
    sys.exit(code)
