"""``make chaos``: fault injection on three Apache Kafka brokers and Redis, with an
invariant checker (``python -m chaos.run``; see ``chaos/run.py``)."""
