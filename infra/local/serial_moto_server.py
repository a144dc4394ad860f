"""moto's server, handling one request at a time.

moto's own server is threaded and its DynamoDB backend is not thread-safe: two concurrent
TransactWriteItems whose conditions conflict can both succeed. DynamoDB serializes them, and
the tracker's exactly-once recording relies on that, so the emulator must too.

Two speed-ups keep it usable with tables of thousands of items (see below): JSONPath parsing is
cached (otherwise every PutEvents that matches a rule takes about 200 ms), and a transaction whose
conditions all hold skips moto's copy of the whole table. More make DynamoDB's everyday calls
about twice as fast (`_speed_up_dynamodb`: the tracker's conditional UpdateItem from about 15 to
8.5 ms at p50, GetItem from 6.5 to 3.3; docs/PERFORMANCE.md). Each replaces moto's work with the
same result computed without waste, and falls back to moto's own code when unsure.
`MOTO_PROFILE=FILE` writes a cProfile of every request to FILE when the server stops.

It can also fail the way DynamoDB does: `POST /_faults` (or `MOTO_FAULTS=<json>` at startup) arms a
rule that answers chosen DynamoDB operations on chosen tables with a transaction conflict,
throttling or an internal error, on the wire in DynamoDB's own format, at a rate, a number of
times, or only for items another request in flight is writing. See `dynamodb_faults.py`.

Two AWS behaviours moto 5 lacks are added, so the code that runs in AWS runs here unchanged
(`_sqs_message_move_tasks`, `_replay_filter_arns`): SQS dead-letter redrive (StartMessageMoveTask,
ListMessageMoveTasks), and an EventBridge replay's `Destination.FilterArns`.

Usage: python3 serial_moto_server.py HOST PORT   (port 0 picks a free port; the banner names it)
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

from dynamodb_faults import DynamoDBFaults

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


def _speed_up_dynamodb():
    """Where a DynamoDB UpdateItem's time went in moto 5 (cProfile, the tracker's conditional
    touch, 300 calls), and what each patch below does instead, keeping moto's result:

    1. The response serializer walks every AttributeValue of every returned item through the
       service model, member by member (about 250 lookups per attribute): a third of a GetItem or
       an UpdateItem with ReturnValues. An AttributeValue in a result is already its own JSON
       (moto has turned DynamoType into {"S": ...}); it is written as is, unless it holds bytes
       (binary values, which the serializer base64-encodes) or anything but plain JSON.
    2. The update validator runs its count and overlap checks at every UpdateExpression node of
       the tree, each collecting the clauses below it: quadratic, 40 checks of 3 walks for a
       9-action SET. The root's clauses include every other node's, so one check at the root
       accepts exactly what they accept; when it refuses, moto's own walk runs and raises its
       own error.
    3. Every traversal of the AST (eight per update) rebuilds its processing map (a dict of bound
       methods) twice per node; it is built once per traverser, and the walk itself looks up no
       methods per node (subclasses that change how nodes are picked keep moto's walk).
    4. The update expression is parsed twice per call (responses, then models) and copied once
       by the validator with `copy.deepcopy`: parses are cached by text (the cached tree is never
       changed: the validator works on its copy), and the copy is a pickle round trip, several
       times faster than deepcopy for these plain objects (deepcopy when pickling fails).
    """
    import functools
    import pickle
    from collections import deque
    from copy import deepcopy

    import moto.core.serialize as serialize
    import moto.dynamodb.parsing.ast_nodes as ast_nodes
    import moto.dynamodb.parsing.expressions as expressions
    import moto.dynamodb.parsing.validators as validators

    # 1. AttributeValues written as they are.
    def plain(value):
        if isinstance(value, str) or isinstance(value, bool):
            return True
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return False

    json_structure = serialize.BaseJSONSerializer._serialize_type_structure

    def serialize_structure(self, serialized, value, shape, key):
        if key and shape.name == "AttributeValue" and isinstance(value, dict) and plain(value):
            serialized[self.get_serialized_name(shape, key)] = value
            return
        json_structure(self, serialized, value, shape, key)

    serialize.BaseJSONSerializer._serialize_type_structure = serialize_structure

    # 2. Count and overlap checks once, at the root.
    for checker, check in (
        (validators.ActionCountValidator, "verify_action_counts"),
        (validators.OverlappingPathsValidator, "check_for_overlapping_paths"),
    ):
        whole_tree = checker.traverse

        def traverse(self, node, _whole_tree=whole_tree, _check=check):
            if isinstance(node, ast_nodes.UpdateExpression):
                try:
                    getattr(self, _check)(node)
                    return node
                except Exception:
                    pass
            return _whole_tree(self, node)

        checker.traverse = traverse

    # 3. One processing map per traverser, and a walk without the per-node method lookups.
    traverser = ast_nodes.DepthFirstTraverser
    own = (traverser.nodes_to_be_processed, traverser.process, traverser.pre_processing_of_child)

    def processing(self):
        cached = self.__dict__.get("_serial_moto_processing")
        if cached is None:
            items = tuple(self._processing_map().items())
            cached = (items, tuple(kind for kind, _ in items))
            self.__dict__["_serial_moto_processing"] = cached
        return cached

    def process(self, node):
        for kind, processor in processing(self)[0]:
            if isinstance(node, kind):
                return processor(node)

    whole_walk = traverser.traverse_node_recursively

    def traverse_node_recursively(self, node, child_id=-1):
        kind_of_self = type(self)
        if (kind_of_self.nodes_to_be_processed, kind_of_self.process) != (nodes_to_be_processed, process):
            return whole_walk(self, node, child_id)
        items, kinds = processing(self)
        pre = None if kind_of_self.pre_processing_of_child is own[2] else self.pre_processing_of_child
        node_type = ast_nodes.Node

        def walk(node, child_id):
            if isinstance(node, node_type):
                parent = node.parent
                if node.children is not None:
                    for i, child in enumerate(node.children):
                        if pre is not None:
                            pre(node, i)
                        walk(child, i)
                if isinstance(node, kinds):
                    for kind, processor in items:
                        if isinstance(node, kind):
                            node = processor(node)
                            break
                    node.parent = parent
                    if parent:
                        parent.children[child_id] = node
            return node

        return walk(node, child_id)

    def nodes_to_be_processed(self):
        return processing(self)[1]

    if own[:2] == (traverser.__dict__["nodes_to_be_processed"], traverser.__dict__["process"]):
        traverser.nodes_to_be_processed = nodes_to_be_processed
        traverser.process = process
        traverser.traverse_node_recursively = traverse_node_recursively

    # 4. Parses cached by text; the validator's copy by pickle.
    parser = expressions.UpdateExpressionParser
    parser.make = staticmethod(functools.lru_cache(maxsize=256)(parser.make))

    def copy_tree(value, memo=None):
        if isinstance(value, ast_nodes.Node):
            try:
                return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
            except Exception:
                pass
        return deepcopy(value, memo)

    validators.deepcopy = copy_tree

    # 5. The condition expression is lexed twice per call, by regular expressions compiled per
    #    token: the tokens of a text are cached (fresh child lists each time; errors not cached).
    import moto.dynamodb.comparisons as comparisons

    condition = comparisons.ConditionExpressionParser
    lex = condition._lex_condition_expression
    lexed = {}

    def lex_condition(self):
        text = self.condition_expression
        tokens = lexed.get(text)
        if tokens is None:
            tokens = tuple(lex(self))
            if len(lexed) < 256:
                lexed[text] = tokens
        return deque(token._replace(children=[]) for token in tokens)

    condition._lex_condition_expression = lex_condition

    # 6. Every request lists moto's package directory (about 60 stat calls) to match the host,
    #    and lists the handler class's methods with `inspect`: both are the same every time.
    import moto.backends as backends
    import moto.core.responses as core_responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    core_responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        core_responses.method_names_from_class
    )


def _sqs_message_move_tasks():
    """SQS's dead-letter redrive, which moto 5 does not have: StartMessageMoveTask moves every
    visible message of the source (a queue some other queue names as its dead-letter queue, as AWS
    requires) to the destination (default: that other queue) as new messages, body and message
    attributes kept; ListMessageMoveTasks lists the tasks of a source, newest first. AWS moves them
    asynchronously; here the task is COMPLETED before the start answers, which callers polling the
    list see as a task that finished at once."""
    import time
    import uuid

    import moto.sqs.responses as sqs_responses
    from moto.core.responses import ActionResult
    from moto.sqs.exceptions import SQSException

    tasks = {}

    def queue_of(backend, arn):
        for queue in backend.queues.values():
            if queue.queue_arn == arn:
                return queue
        raise SQSException("ResourceNotFoundException", f"The resource {arn} does not exist.")

    def start_message_move_task(self):
        backend = self.sqs_backend
        source_arn = self._get_param("SourceArn")
        source = queue_of(backend, source_arn)
        origins = [q for q in backend.queues.values() if q.dead_letter_queue is source]
        if not origins:
            raise SQSException(
                "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."
            )
        destination_arn = self._get_param("DestinationArn")
        destination = queue_of(backend, destination_arn) if destination_arn else origins[0]
        moved = 0
        for message in list(source._messages):
            if not message.visible:
                continue
            source._messages.remove(message)
            source._pending_messages.discard(message)
            backend.send_message(
                destination.name, message.body, message_attributes=dict(message.message_attributes)
            )
            moved += 1
        handle = str(uuid.uuid4())
        tasks.setdefault(source_arn, []).insert(
            0,
            {
                "TaskHandle": handle,
                "Status": "COMPLETED",
                "SourceArn": source_arn,
                "DestinationArn": destination.queue_arn,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": moved,
                "StartedTimestamp": int(time.time() * 1000),
            },
        )
        return ActionResult({"TaskHandle": handle})

    def list_message_move_tasks(self):
        source_arn = self._get_param("SourceArn")
        queue_of(self.sqs_backend, source_arn)
        limit = int(self._get_param("MaxResults") or 1)
        return ActionResult({"Results": tasks.get(source_arn, [])[:limit]})

    sqs_responses.SQSResponse.start_message_move_task = start_message_move_task
    sqs_responses.SQSResponse.list_message_move_tasks = list_message_move_tasks


def _replay_filter_arns():
    """An EventBridge replay whose Destination has FilterArns sends the archived events only to
    those rules, as AWS does; moto 5 sends them to every rule of the bus (kept when none is given)."""
    import moto.events.models as events

    replay_every_rule = events.Replay.replay_events

    def replay_events(self, archive):
        only = set(self.destination.get("FilterArns") or [])
        if not only:
            return replay_every_rule(self, archive)
        backend = events.events_backends[self.account_id][self.region]
        bus = backend.describe_event_bus(self.destination["Arn"].split("/")[-1])
        for event in archive.events:
            for rule in bus.rules.values():
                if rule.arn in only:
                    rule.send_to_targets(
                        dict(event, **{"id": str(events.random.uuid4()), "replay-name": self.name}),
                        transform_input=False,
                    )
        self.state = events.ReplayState.COMPLETED
        self.end_time = events.unix_time()

    events.Replay.replay_events = replay_events


_speed_up_transactions()
_speed_up_dynamodb()
_sqs_message_move_tasks()
_replay_filter_arns()
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
faults = DynamoDBFaults()


def serialized(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/_faults"):
        with lock:
            return faults.control(environ, start_response)
    # In flight from here: before the lock, so a request queued for it counts as a writer.
    arrival = faults.arrive(environ)
    try:
        with lock:
            answer = faults.fault(arrival, start_response)
            # Build the whole response inside the lock: moto computes lazily in some handlers.
            return answer if answer is not None else list(app(environ, start_response))
    finally:
        faults.leave(arrival)


def _profile_requests(path):
    """MOTO_PROFILE=FILE: cProfile every request (inside the lock, so one at a time) and write the
    stats to FILE when the server stops (`python3 -m pstats FILE`). Off by default; it is how the
    speed-ups here were found (docs/PERFORMANCE.md)."""
    import atexit
    import cProfile

    global app
    profiler = cProfile.Profile()
    unprofiled = app

    def profiled(environ, start_response):
        profiler.enable()
        try:
            return list(unprofiled(environ, start_response))
        finally:
            profiler.disable()

    app = profiled
    atexit.register(lambda: profiler.dump_stats(path))


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
    if os.environ.get("MOTO_PROFILE"):
        _profile_requests(os.environ["MOTO_PROFILE"])
    if os.environ.get("MOTO_FAULTS"):
        faults.arm_from_environment(os.environ["MOTO_FAULTS"])
    run_simple(host, port, serialized, threaded=True)
