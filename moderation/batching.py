"""A Celery task whose messages are run together: the worker hands a pool process a batch of them at once.

Each comment comes as its own message (intake sends one per comment, and so do the sweep and the tests), but a
worker decides a batch of them for little more than the cost of one (services/decisions.score_comments). The
worker's consumer keeps the messages of such a task as they arrive, and sends them to the pool together once
`flush_every` have come or `flush_interval` seconds after the first: alone at a quiet time, many under load.

Each message keeps its own request, so a batch is to Celery what its messages would be one by one: they are
active (`celery inspect active`) while it runs, acknowledged after it when the task acknowledges late, and
requeued if its pool process dies (task_reject_on_worker_lost). A message with a countdown waits for it first.
celery-batches does this too, but asks for Celery below 5.7.
"""

import time
from typing import NamedTuple

from celery import Task
from celery.app import trace
from celery.utils.imports import symbol_by_name
from celery.utils.time import timezone
from celery.worker.request import create_request_cls
from celery.worker.state import task_reserved
from celery.worker.strategy import hybrid_to_proto2, proto1_to_proto2
from kombu.asynchronous.timer import to_timestamp

to_system_tz = timezone.to_system


class Batched(Task):
    """A task run with the arguments of many messages: `run(calls)`, each call a Call."""

    abstract = True
    flush_every = 100
    flush_interval = 0.02  # seconds

    def Strategy(self, task, app, consumer):  # noqa: N802 (Celery's name)
        """The consumer's handler for this task's messages: buffer them, and flush the buffer to the pool."""
        request_class = create_request_cls(
            symbol_by_name(task.Request), task, consumer.pool, consumer.hostname, consumer.event_dispatcher, app=app
        )
        batcher, timer = _Batcher(task, consumer.pool, consumer.timer), consumer.timer
        add = batcher.add

        def later(request):  # its countdown has passed
            consumer.qos.decrement_eventually()
            add(request)

        def handler(message, body, ack, reject, callbacks, **_kwargs):
            if body is None and "args" not in message.payload:
                body, headers, decoded, utc = message.body, message.headers, False, app.uses_utc_timezone()
            elif "args" in message.payload:
                body, headers, decoded, utc = hybrid_to_proto2(message, message.payload)
            else:
                body, headers, decoded, utc = proto1_to_proto2(message, body)
            request = request_class(
                message,
                on_ack=ack,
                on_reject=reject,
                app=app,
                hostname=consumer.hostname,
                eventer=consumer.event_dispatcher,
                task=task,
                connection_errors=consumer.connection_errors,
                body=body,
                headers=headers,
                decoded=decoded,
                utc=utc,
            )
            if request.eta:
                consumer.qos.increment_eventually()  # as Celery does: a waiting message takes no prefetch slot
                if request.utc:
                    eta = to_timestamp(to_system_tz(request.eta))
                else:
                    eta = to_timestamp(request.eta, app.timezone)
                timer.call_at(eta, later, (request,), priority=6)
            else:
                add(request)

        return handler


class _Batcher:
    """The consumer's side of a Batched task: it keeps the requests, and hands them to the pool in batches.

    A batch goes once `flush_every` requests have come, or `flush_interval` after the first; but while a batch
    runs, the requests wait, and the next batch takes them all (up to `flush_every`) as soon as it is done: at a
    quiet time a comment waits for the interval, under load batches grow to what the worker can decide at once.
    Only a whole batch waiting goes to a second process beside the first.
    """

    def __init__(self, task, pool, timer):
        self.task, self.pool, self.timer = task, pool, timer
        self.buffer, self.running, self.waiting = [], 0, False

    def add(self, request):
        task_reserved(request)
        self.buffer.append(request)
        if len(self.buffer) >= self.task.flush_every:
            self.flush()
        elif not self.waiting:
            self.waiting = True
            self.timer.call_after(self.task.flush_interval, self.due)

    def due(self):
        self.waiting = False
        self.flush()

    def flush(self):
        size = self.task.flush_every
        # One batch at a time, unless a whole batch is waiting and a process is free: the other processes stay
        # for the worker's other tasks, and batches grow rather than run side by side on the same cores.
        while self.buffer and (self.running == 0 or (len(self.buffer) >= size and self.running < self.pool.limit)):
            batch, self.buffer = self.buffer[:size], self.buffer[size:]
            self.running += 1
            _apply(self.pool, self.task, batch, self.done)

    def done(self):
        self.running -= 1
        self.flush()


class Call(NamedTuple):
    """One message's part of a batch: its arguments and how many times it was retried."""

    args: tuple
    retries: int


def _apply(pool, task, requests, done):
    """Run a batch in a pool process; each request hears of it as if it had run alone, then `done()`."""
    started = time.monotonic()

    def accepted(pid, time_accepted):
        for request in requests:
            request.on_accepted(pid, time_accepted)

    def succeeded(result):
        runtime = time.monotonic() - started
        for request in requests:
            request.on_success((False, result, runtime))
            # The line Celery's tracer writes for a task run alone, which operators (and tests) read.
            info = {"id": request.id, "name": request.name, "return_value": result, "runtime": runtime}
            trace.logger.info(trace.LOG_SUCCESS, info, extra={"data": info})
        done()

    def failed(exc_info):  # the pool process died (or the batch raised): each request as Celery handles it
        for request in requests:
            request.on_failure(exc_info)
        done()

    calls = [Call(tuple(request.args), request.request_dict.get("retries") or 0) for request in requests]
    pool.apply_async(
        _run,
        args=(task.name, calls),
        accept_callback=accepted,
        callback=succeeded,
        error_callback=failed,
        soft_timeout=task.soft_time_limit,
        timeout=task.time_limit,
    )


def _run(name, calls):
    """In the pool process: the task's run over the batch's calls."""
    from celery import current_app

    return current_app.tasks[name](calls)
