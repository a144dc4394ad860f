"""DynamoDB's failures, on the wire: the fault control of the local emulator.

moto never throttles and, served one request at a time, never sees two writers race. DynamoDB
does both: it cancels a transaction that meets another one on the same item
(`TransactionCanceledException`, reason `TransactionConflict`), throttles
(`ProvisionedThroughputExceededException`, `ThrottlingException`, `RequestLimitExceeded`), and
answers `InternalServerError` now and then. Rules armed here make the emulator answer chosen
DynamoDB requests with those errors, in DynamoDB's own JSON error format, so the real SDK parses
them, retries what it retries, and the caller sees what it would see in AWS.

Control (on the emulator's own address; `infra/local/emulator-faults.ts` is the client):

    POST   /_faults        a rule (below) -> 201 the rule with its `id` and counts
    GET    /_faults        -> {"rules": [...]} every rule with `matched` and `injected`
    GET    /_faults/ID     -> one rule
    DELETE /_faults/ID     -> the rule removed, with its final counts
    DELETE /_faults        -> {"rules": [...]} every rule, all removed
    POST   /_faults/hold   {"ms": N} -> the emulator is busy for N ms (at most 10 s), as behind a
                           slow request: what is sent meanwhile queues, in flight together

or `MOTO_FAULTS=<a rule or a JSON list of rules>` at startup. A rule:

    {"tables": ["links-1a2b"],              required: the tables it may fault ("*": any table;
                                            the emulator is shared, so a test names its own)
     "operations": "TransactWriteItems",    an operation, a list of them, "*writes*" (PutItem,
                                            UpdateItem, DeleteItem, TransactWriteItems,
                                            BatchWriteItem) or "*" (every item operation)
     "error": "TransactionConflict",        one of the errors below
     "rate": 0.1,                           chance that a matching request is faulted (default 1)
     "count": 5,                            at most this many faults, then the rule is spent
     "seed": 42,                            a seeded rate: the same requests, the same faults
     "onlyContended": true,                 only requests touching an item that another request
                                            in flight (arrived, queued for or holding the
                                            emulator's lock) is writing, seen when the request
                                            arrives or when it takes the lock
     "retries": "faulted"}                  the SDK's retries of a call the rule faulted (they
                                            share its `amz-sdk-invocation-id`) are faulted too,
                                            so the call fails after all its attempts, as when
                                            throttling outlasts them; `count` then counts calls.
                                            Default "independent": each attempt is a new draw.

A request is matched by the first rule, in arming order, whose operation and tables it has (and,
with `onlyContended`, a contended item); when the rate spares it, the next rules get their chance.
A faulted request never reaches moto: nothing is written. Counts are per rule: `matched` (requests
that qualified), `injected` (faults answered) and `calls` (SDK calls faulted, their retries apart).

Errors, as DynamoDB sends them (HTTP status, `Content-Type: application/x-amz-json-1.0`,
`x-amzn-RequestId`, `x-amz-crc32`, body `{"__type": "com.amazonaws.dynamodb.v20120810#<Code>",
"message": ...}`):

    TransactionConflict      on TransactWriteItems / TransactGetItems: 400
                             TransactionCanceledException, `Message` "Transaction cancelled,
                             please refer cancellation reasons for specific reasons [None,
                             TransactionConflict]" and `CancellationReasons`, one per item:
                             {"Code": "TransactionConflict", "Message": "Transaction is ongoing
                             for the item"} for the conflicting item (the contended ones with
                             `onlyContended`, else the first item of a faulted table), {"Code":
                             "None"} for the others. On PutItem, UpdateItem, DeleteItem,
                             BatchWriteItem: 400 TransactionConflictException.
    ThrottlingError          on transactions only: 400 TransactionCanceledException whose
                             conflicting item has the reason `ThrottlingError` (not retried by
                             the SDK, unlike the exceptions below).
    ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded
                             400, with DynamoDB's throttling reasons (retried by the SDK).
    InternalServerError      500 (retried by the SDK).

Nothing here runs while no rule is armed: the request path then costs one check of a list.
"""

import io
import json
import os
import random
import re
import secrets
import string
import threading
import time
import zlib
from collections import Counter, OrderedDict

TARGET_PREFIX = "DynamoDB_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
TRANSACTIONS = ("TransactWriteItems", "TransactGetItems")
OPERATIONS = WRITES + ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")
ALIASES = {"*writes*": WRITES, "*": OPERATIONS}

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
CANCELLED_MESSAGE = "Transaction cancelled, please refer cancellation reasons for specific reasons"
THROTTLED_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly. If exceptions persist, check if you "
    "have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)

# code -> (HTTP status, message, throttling-reason limit type or None, throttling-reasons field)
THROWN = {
    "ProvisionedThroughputExceededException": (
        400,
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
        "KeyRangeThroughputExceeded",
        "ThrottlingReasons",
    ),
    "ThrottlingException": (400, THROTTLED_MESSAGE, "MaxOnDemandThroughputExceeded", "throttlingReasons"),
    "RequestLimitExceeded": (
        400,
        "Throughput exceeds the current throughput limit for your account. "
        "Please contact AWS Support at https://aws.amazon.com/support request a limit increase",
        "AccountLimitExceeded",
        "ThrottlingReasons",
    ),
    "InternalServerError": (500, "Internal server error", None, None),
}
CANCELLATIONS = {"TransactionConflict": CONFLICT_MESSAGE, "ThrottlingError": THROTTLED_MESSAGE}
ERRORS = tuple(THROWN) + tuple(CANCELLATIONS)

STATUS_LINES = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    500: "500 Internal Server Error",
}
REGION_IN_AUTHORIZATION = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
REQUEST_ID_ALPHABET = string.ascii_uppercase + string.digits


class RuleError(ValueError):
    """A rule the control refuses, with a message naming the field."""


class Rule:
    def __init__(self, spec, rule_id):
        if not isinstance(spec, dict):
            raise RuleError("a fault rule is a JSON object")
        fields = {"tables", "operations", "error", "rate", "count", "seed", "onlyContended", "retries"}
        unknown = sorted(set(spec) - fields)
        if unknown:
            raise RuleError(f"unknown fields: {', '.join(unknown)}")
        self.id = rule_id
        self.error = spec.get("error")
        if self.error not in ERRORS:
            raise RuleError(f"error must be one of {', '.join(ERRORS)}")
        self.operations = _operations(spec.get("operations"))
        if self.error in CANCELLATIONS and self.error != "TransactionConflict":
            if not set(self.operations) <= set(TRANSACTIONS):
                raise RuleError(f"{self.error} is a cancellation reason: operations must be transactions")
        if self.error == "TransactionConflict":
            reads = sorted(set(self.operations) - set(WRITES) - set(TRANSACTIONS))
            if reads:
                raise RuleError(f"reads do not conflict: {', '.join(reads)}")
        tables = spec.get("tables")
        if tables == "*":
            self.tables = None
        elif isinstance(tables, list) and tables and all(isinstance(t, str) and t for t in tables):
            self.tables = frozenset(tables)
        else:
            raise RuleError('tables is required: a list of table names, or "*" for every table')
        self.rate = spec.get("rate", 1)
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) or not 0 <= self.rate <= 1:
            raise RuleError("rate must be a number from 0 to 1")
        self.count = spec.get("count")
        if self.count is not None and (not _integer(self.count) or self.count < 1):
            raise RuleError("count must be a positive integer")
        self.seed = spec.get("seed")
        if self.seed is not None and not _integer(self.seed):
            raise RuleError("seed must be an integer")
        self.only_contended = spec.get("onlyContended", False)
        if not isinstance(self.only_contended, bool):
            raise RuleError("onlyContended must be true or false")
        self.retries = spec.get("retries", "independent")
        if self.retries not in ("independent", "faulted"):
            raise RuleError('retries must be "independent" or "faulted"')
        self.random = random.Random(self.seed)
        self.matched = 0
        self.injected = 0
        self.calls = 0
        self._faulted_calls = OrderedDict()

    @property
    def spent(self):
        return self.count is not None and self.calls >= self.count

    def faulted_before(self, call):
        return self.retries == "faulted" and call is not None and call in self._faulted_calls

    def remember(self, call):
        self.calls += 1
        if self.retries == "faulted" and call is not None:
            self._faulted_calls[call] = True
            if len(self._faulted_calls) > 10_000:
                self._faulted_calls.popitem(last=False)

    def as_json(self):
        return {
            "id": self.id,
            "tables": "*" if self.tables is None else sorted(self.tables),
            "operations": list(self.operations),
            "error": self.error,
            "rate": self.rate,
            "count": self.count,
            "seed": self.seed,
            "onlyContended": self.only_contended,
            "retries": self.retries,
            "matched": self.matched,
            "injected": self.injected,
            "calls": self.calls,
        }


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _operations(value):
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise RuleError('operations is required: an operation, a list of them, "*writes*" or "*"')
    operations = []
    for name in names:
        for operation in ALIASES.get(name, (name,)):
            if operation not in OPERATIONS:
                known = ", ".join(OPERATIONS)
                raise RuleError(f"unknown operation {name[:40]!r}: one of {known}, *writes*, *")
            if operation not in operations:
                operations.append(operation)
    return tuple(operations)


class Arrival:
    """A DynamoDB request as the fault layer sees it: its operation, and per item (per
    TransactItem for a transaction) the table and the item's identity (None when it has none)."""

    __slots__ = ("operation", "items", "writes", "region", "call", "contended")

    def __init__(self, operation, items, writes, region, call):
        self.operation = operation
        self.items = items
        self.writes = writes
        self.region = region
        self.call = call
        self.contended = set()


class DynamoDBFaults:
    def __init__(self, key_names=None):
        self.rules = []
        self._next_id = 1
        self._in_flight = Counter()
        self._in_flight_lock = threading.Lock()
        self._key_names = key_names or moto_key_names

    # -- control -----------------------------------------------------------------------------

    def arm(self, spec):
        rule = Rule(spec, f"fault-{self._next_id}")
        self._next_id += 1
        self.rules = [*self.rules, rule]
        return rule

    def arm_from_environment(self, text):
        specs = json.loads(text)
        for spec in specs if isinstance(specs, list) else [specs]:
            self.arm(spec)

    def control(self, environ, start_response):
        """The `/_faults` endpoints. Called while no DynamoDB request is being served."""
        method = environ.get("REQUEST_METHOD", "GET")
        rule_id = environ.get("PATH_INFO", "").rstrip("/")[len("/_faults") :].lstrip("/")
        if rule_id == "hold" and method == "POST":
            # A test aid: the emulator is busy for `ms`, as behind a slow request, so the requests
            # sent meanwhile queue for it (in flight together: contention made on purpose).
            try:
                ms = json.loads(_read_body(environ) or b"{}").get("ms")
                if not isinstance(ms, int) or isinstance(ms, bool) or not 0 <= ms <= 10_000:
                    raise ValueError("ms must be an integer from 0 to 10000")
            except (ValueError, AttributeError) as error:
                return _json(start_response, 400, {"message": f"invalid hold: {error}"})
            time.sleep(ms / 1000)
            return _json(start_response, 200, {"held": ms})
        if rule_id:
            rule = next((r for r in self.rules if r.id == rule_id), None)
            if rule is None:
                return _json(start_response, 404, {"message": f"no fault rule {rule_id[:40]!r}"})
            if method == "GET":
                return _json(start_response, 200, rule.as_json())
            if method == "DELETE":
                self.rules = [r for r in self.rules if r is not rule]
                return _json(start_response, 200, rule.as_json())
        elif method == "GET":
            return _json(start_response, 200, {"rules": [r.as_json() for r in self.rules]})
        elif method == "DELETE":
            removed, self.rules = self.rules, []
            return _json(start_response, 200, {"rules": [r.as_json() for r in removed]})
        elif method == "POST":
            try:
                spec = json.loads(_read_body(environ) or b"null")
                rule = self.arm(spec)
            except (RuleError, ValueError) as error:
                return _json(start_response, 400, {"message": f"invalid fault rule: {error}"})
            return _json(start_response, 201, rule.as_json())
        return _json(start_response, 405, {"message": f"{method} is not allowed here"})

    # -- the request path --------------------------------------------------------------------

    def arrive(self, environ):
        """Before the emulator's lock: reads a DynamoDB request (when any rule is armed) and
        registers the items it writes as in flight. Answers None for anything not to watch."""
        if not self.rules:
            return None
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(TARGET_PREFIX):
            return None
        operation = target[len(TARGET_PREFIX) :]
        if operation not in OPERATIONS:
            return None
        body = _read_body(environ)
        if body is None:
            return None
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        try:
            payload = json.loads(body)
            region_match = REGION_IN_AUTHORIZATION.search(environ.get("HTTP_AUTHORIZATION", ""))
            region = region_match.group(1) if region_match else "us-east-1"
            items = self._items(operation, payload, region)
        except Exception:
            return None  # moto answers a malformed request itself
        writes = Counter(key for _, key in items if key is not None) if operation in WRITES else Counter()
        arrival = Arrival(operation, items, writes, region, environ.get("HTTP_AMZ_SDK_INVOCATION_ID"))
        with self._in_flight_lock:
            self._in_flight.update(writes)
            arrival.contended = self._contended(arrival)
        return arrival

    def fault(self, arrival, start_response):
        """Inside the emulator's lock: the fault to answer instead of moto's answer, or None."""
        if arrival is None:
            return None
        rules = self.rules
        if not rules:
            return None
        with self._in_flight_lock:
            arrival.contended |= self._contended(arrival)
        for rule in rules:
            if arrival.operation not in rule.operations:
                continue
            scope = [
                i for i, (table, _) in enumerate(arrival.items) if rule.tables is None or table in rule.tables
            ]
            retried = rule.faulted_before(arrival.call)
            if not scope or (rule.spent and not retried):
                continue
            hit = [i for i in scope if i in arrival.contended] if rule.only_contended else scope[:1]
            if retried:
                hit = hit or scope[:1]
            elif not hit:
                continue
            rule.matched += 1
            if not retried:
                if rule.random.random() >= rule.rate:
                    continue
                rule.remember(arrival.call)
            rule.injected += 1
            return self._answer(rule.error, arrival, hit, start_response)
        return None

    def leave(self, arrival):
        if arrival is not None and arrival.writes:
            with self._in_flight_lock:
                self._in_flight.subtract(arrival.writes)
                for key in arrival.writes:
                    if self._in_flight[key] <= 0:
                        del self._in_flight[key]

    def _contended(self, arrival):
        in_flight = self._in_flight
        return {
            i
            for i, (_, key) in enumerate(arrival.items)
            if key is not None and in_flight.get(key, 0) - arrival.writes.get(key, 0) > 0
        }

    def _items(self, operation, payload, region):
        def identity(table, key=None, item=None):
            if table is None:
                return (None, None)
            if key is None and item is not None:
                names = self._key_names(table, region)
                key = {name: item.get(name) for name in names} if names else None
            if not key:
                return (table, None)
            return (table, (table, json.dumps(key, sort_keys=True)))

        if operation in ("GetItem", "UpdateItem", "DeleteItem"):
            return [identity(payload.get("TableName"), payload.get("Key"))]
        if operation == "PutItem":
            return [identity(payload.get("TableName"), item=payload.get("Item") or {})]
        if operation in ("Query", "Scan"):
            return [(payload.get("TableName"), None)]
        if operation in TRANSACTIONS:
            items = []
            for entry in payload.get("TransactItems") or []:
                (kind, op), *_ = entry.items() if isinstance(entry, dict) and entry else [(None, {})]
                op = op if isinstance(op, dict) else {}
                item = op.get("Item") if kind == "Put" else None
                items.append(identity(op.get("TableName"), op.get("Key"), item))
            return items
        if operation == "BatchWriteItem":
            return [
                identity(
                    table,
                    (request.get("DeleteRequest") or {}).get("Key"),
                    (request.get("PutRequest") or {}).get("Item"),
                )
                for table, requests in (payload.get("RequestItems") or {}).items()
                for request in requests
            ]
        if operation == "BatchGetItem":
            return [
                identity(table, key)
                for table, wanted in (payload.get("RequestItems") or {}).items()
                for key in (wanted.get("Keys") or [{}])
            ]
        return []

    def _answer(self, error, arrival, hit, start_response):
        table = arrival.items[hit[0]][0]
        if error in CANCELLATIONS and arrival.operation in TRANSACTIONS:
            reasons = [
                {"Code": error, "Message": CANCELLATIONS[error]} if i in hit else {"Code": "None"}
                for i in range(len(arrival.items))
            ]
            codes = ", ".join(reason["Code"] for reason in reasons)
            message = f"{CANCELLED_MESSAGE} [{codes}]"
            return _json(
                start_response,
                400,
                {
                    "__type": ERROR_PREFIX + "TransactionCanceledException",
                    "CancellationReasons": reasons,
                    "Message": message,
                },
                dynamodb=True,
            )
        if error in CANCELLATIONS:
            return _json(
                start_response,
                400,
                {"__type": ERROR_PREFIX + "TransactionConflictException", "message": CONFLICT_MESSAGE},
                dynamodb=True,
            )
        status, message, limit, field = THROWN[error]
        body = {"__type": ERROR_PREFIX + error, "message": message}
        if limit is not None:
            access = "Write" if arrival.operation in WRITES else "Read"
            account = os.environ.get("MOTO_ACCOUNT_ID", "123456789012")
            resource = f"arn:aws:dynamodb:{arrival.region}:{account}:table/{table}"
            body[field] = [{"reason": f"Table{access}{limit}", "resource": resource}]
        return _json(start_response, status, body, dynamodb=True)


def moto_key_names(table, region, _cache={}):
    """The key attribute names of a moto table (for the identity of a Put's item), cached: a
    table's keys never change. None when the table is unknown (moto then answers the error)."""
    names = _cache.get((region, table))
    if names is None:
        try:
            from moto.core import DEFAULT_ACCOUNT_ID
            from moto.dynamodb.models import dynamodb_backends

            account = os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
            found = dynamodb_backends[account][region].tables.get(table)
        except Exception:
            found = None
        if found is None:
            return None
        names = tuple(n for n in (found.hash_key_attr, found.range_key_attr) if n)
        _cache[(region, table)] = names
    return names


def _read_body(environ):
    """The whole body, or None when its end is unknown (the request is then left as it is)."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH")
    if stream is None or not (length or environ.get("wsgi.input_terminated")):
        return None
    if not length:
        return stream.read()
    try:
        return stream.read(int(length))
    except ValueError:
        return None


def _json(start_response, status, payload, dynamodb=False):
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [
        ("Content-Type", JSON_CONTENT_TYPE if dynamodb else "application/json"),
        ("Content-Length", str(len(body))),
    ]
    if dynamodb:
        request_id = "".join(secrets.choice(REQUEST_ID_ALPHABET) for _ in range(52))
        headers += [("x-amzn-RequestId", request_id), ("x-amz-crc32", str(zlib.crc32(body)))]
    start_response(STATUS_LINES[status], headers)
    return [body]
