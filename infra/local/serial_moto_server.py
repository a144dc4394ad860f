"""moto's server, handling one request at a time.

moto's own server is threaded and its DynamoDB backend is not thread-safe: two concurrent
TransactWriteItems whose conditions conflict can both succeed. DynamoDB serializes them, and
the tracker's exactly-once recording relies on that, so the emulator must too.

Two speed-ups keep it usable with tables of thousands of items (see below): JSONPath parsing is
cached (otherwise every PutEvents that matches a rule takes about 200 ms), and a transaction whose
conditions all hold skips moto's copy of the whole table.

Usage: python3 serial_moto_server.py HOST PORT   (port 0 picks a free port; the banner names it)
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

try:
    # moto's EventBridge rebuilds a JSONPath parser (ply LR tables) for every path of every target
    # delivery: about 200 ms per PutEvents with a rule. Parsed paths are immutable, so cache them.
    import functools

    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)
except ImportError:
    pass


def _speed_up_transactions():
    """moto's TransactWriteItems deep-copies the whole table once per item, for a rollback, so a
    transaction slows as the table grows. When every condition of the transaction holds (checked
    first, with moto's own evaluator, while no other request can run), nothing will be rolled
    back and the copy is skipped. Anything else takes moto's own path unchanged."""
    import copy as real_copy

    import moto.dynamodb.models as ddb

    original = ddb.DynamoDBBackend.transact_write_items

    class TablesNotCopied:
        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, ddb.Table) else real_copy.deepcopy(value, memo)

    def conditions_hold(backend, transact_items):
        seen = set()
        for entry in transact_items:
            if len(entry) != 1:
                return False
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                return False
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            identity = (op["TableName"], str(dict(sorted(key.items()))))
            if identity in seen:
                return False
            seen.add(identity)
            condition = op.get("ConditionExpression")
            if condition is not None:
                current = backend.get_item(op["TableName"], key)
                check = ddb.get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    return False
        return True

    def transact_write_items(self, transact_items):
        try:
            fast = conditions_hold(self, transact_items)
        except Exception:
            fast = False
        if not fast:
            return original(self, transact_items)
        ddb.copy = TablesNotCopied
        try:
            return original(self, transact_items)
        finally:
            ddb.copy = real_copy

    ddb.DynamoDBBackend.transact_write_items = transact_write_items


_speed_up_transactions()
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Build the whole response inside the lock: moto computes lazily in some handlers.
        return list(app(environ, start_response))


def stop(_signum, _frame):
    sys.exit(0)


def exit_with_parent(parent_pid):
    """No orphans: if whoever started the emulator dies without stopping it, stop too."""
    import os
    import time

    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    import os

    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    run_simple(host, port, serialized, threaded=True)
