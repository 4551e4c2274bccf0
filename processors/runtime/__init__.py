"""The stream runtime under the stages: steps, one runner, the dead-letter policy, and backends.

    steps.py      a step is a plain function (pure, synchronous) or an ``AsyncStep`` for I/O
    dlq.py        what may be dead-lettered; ``DlqLimit`` stops a flood of invalid records
    runner.py     decode → steps → encode (or a ``Sink``) for one batch; per-partition state
    sink.py       the ``Sink`` protocol and ``SinkBackpressureError``
    backends/     memory.py (unit tests, no I/O) and faust.py (the only module that imports faust)

The runner never commits: a backend makes the batch's output durable (produced with acks=all, or
written by the sink) and only then commits its offsets. An exception the policy does not send to
the dead letters leaves the batch uncommitted and stops the worker.
"""
