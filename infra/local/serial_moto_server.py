"""moto's server, handling one request at a time.

moto's own server is threaded and its DynamoDB backend is not thread-safe: two concurrent
TransactWriteItems whose conditions conflict can both succeed. DynamoDB serializes them, and
the tracker's exactly-once recording relies on that, so the emulator must too.

Usage: python3 serial_moto_server.py HOST PORT   (port 0 picks a free port; the banner names it)
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Build the whole response inside the lock: moto computes lazily in some handlers.
        return list(app(environ, start_response))


def stop(_signum, _frame):
    sys.exit(0)


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_simple(host, port, serialized, threaded=True)
