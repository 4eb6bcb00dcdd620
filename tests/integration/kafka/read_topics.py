#!/usr/bin/python3
"""Reads Kafka topics from the beginning with another client, the way the
seeds' consumers do, and reports what it found, one JSON line per topic:

  {"topic": "t", "records": 3, "codecs": ["gzip"], "error": null}

Run by compression_interop_test (Debian's /usr/bin/python3, python3-kafka
2.0.2, python3-confluent-kafka 1.7.0):

  read_topics.py --client kafka-python --bootstrap HOST:PORT \
      --topic t=3 [--topic u=1 ...] [--allow-codec snappy] [--timeout 30]

kafka-python decodes gzip itself but snappy, lz4 and zstd only through
optional modules (python-snappy, lz4, zstandard). Every such module is made
unimportable here unless --allow-codec names its codec, so a topic that needs
one raises kafka.errors.UnsupportedCodecError exactly as on a machine
without it, whatever this one has installed. "codecs" lists the compression
attribute of every record batch kafka-python fetched (kafka-python only; its
record batch parser exposes it).

confluent-kafka (librdkafka) decodes every codec; it shows that the records
arrive whole through a second client. Exit code 0 when every topic gave the
expected number of records and no error, 1 otherwise, 2 for bad usage.
"""

import argparse
import json
import sys
import time

# Modules kafka-python 2.0.2 probes in kafka/codec.py, by the codec they add.
OPTIONAL_MODULES = {
    "snappy": ["snappy"],
    "lz4": ["lz4", "lz4.frame", "lz4f", "lz4framed", "xxhash"],
    "zstd": ["zstandard"],
}
CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--client", choices=["kafka-python", "confluent-kafka"],
                   required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", action="append", required=True,
                   metavar="NAME=COUNT",
                   help="a topic and how many records it must give")
    p.add_argument("--allow-codec", action="append", default=[],
                   choices=sorted(OPTIONAL_MODULES),
                   help="leave this codec's optional module importable")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds per topic")
    args = p.parse_args()
    topics = {}
    for spec in args.topic:
        name, _, count = spec.rpartition("=")
        if not name or not count.isdigit():
            p.error("--topic expects NAME=COUNT, got " + spec)
        topics[name] = int(count)
    return args, topics


def block_optional_codecs(allowed):
    # None in sys.modules makes `import x` raise ImportError, which is what
    # kafka/codec.py catches to decide a codec is unavailable.
    for codec, modules in OPTIONAL_MODULES.items():
        if codec not in allowed:
            for m in modules:
                sys.modules[m] = None


def read_with_kafka_python(bootstrap, topics, timeout):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.consumer import fetcher
    from kafka.record import memory_records
    import kafka.errors

    # Note every batch's codec as kafka-python parses it: the fetcher hands
    # each partition's MemoryRecords to _unpack_message_set, which calls
    # next_batch until it is done (kafka-python 2.0.2 internals).
    topic_of = {}
    seen = {t: set() for t in topics}
    orig_unpack = fetcher.Fetcher._unpack_message_set
    orig_next = memory_records.MemoryRecords.next_batch

    def unpack(self, tp, records):
        topic_of[id(records)] = tp.topic
        return orig_unpack(self, tp, records)

    def next_batch(self, *a, **kw):
        batch = orig_next(self, *a, **kw)
        topic = topic_of.get(id(self))
        if batch is not None and topic in seen:
            seen[topic].add(CODEC_NAMES.get(batch.compression_type, "?"))
        return batch

    fetcher.Fetcher._unpack_message_set = unpack
    memory_records.MemoryRecords.next_batch = next_batch

    results = []
    for topic, expected in topics.items():
        result = {"topic": topic, "records": 0, "codecs": [], "error": None}
        consumer = None
        try:
            consumer = KafkaConsumer(bootstrap_servers=bootstrap,
                                     group_id=None,
                                     enable_auto_commit=False,
                                     auto_offset_reset="earliest",
                                     request_timeout_ms=20000,
                                     consumer_timeout_ms=1000)
            deadline = time.monotonic() + timeout
            parts = None
            while parts is None and time.monotonic() < deadline:
                parts = consumer.partitions_for_topic(topic)
                if parts is None:
                    time.sleep(0.1)
            if parts is None:
                raise RuntimeError("no metadata for " + topic)
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            while (result["records"] < expected and
                   time.monotonic() < deadline):
                for batch in consumer.poll(timeout_ms=500).values():
                    result["records"] += len(batch)
        except kafka.errors.UnsupportedCodecError as e:
            result["error"] = str(e)
        except Exception as e:  # reported, so the test shows what happened
            result["error"] = type(e).__name__ + ": " + str(e)
        finally:
            if consumer is not None:
                consumer.close()
        result["codecs"] = sorted(seen[topic])
        results.append(result)
    return results


def read_with_confluent_kafka(bootstrap, topics, timeout):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    results = []
    for topic, expected in topics.items():
        result = {"topic": topic, "records": 0, "codecs": [], "error": None}
        consumer = Consumer({"bootstrap.servers": bootstrap,
                             "group.id": "distiller-interop-check",
                             "enable.auto.commit": False,
                             "auto.offset.reset": "earliest"})
        try:
            deadline = time.monotonic() + timeout
            md = consumer.list_topics(topic, timeout=timeout)
            parts = sorted(md.topics[topic].partitions)
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                             for p in parts])
            while (result["records"] < expected and
                   time.monotonic() < deadline):
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() == -191:  # _PARTITION_EOF
                        continue
                    raise RuntimeError(str(msg.error()))
                result["records"] += 1
        except Exception as e:
            result["error"] = type(e).__name__ + ": " + str(e)
        finally:
            consumer.close()
        results.append(result)
    return results


def main():
    args, topics = parse_args()
    if args.client == "kafka-python":
        block_optional_codecs(set(args.allow_codec))
        results = read_with_kafka_python(args.bootstrap, topics, args.timeout)
    else:
        results = read_with_confluent_kafka(args.bootstrap, topics,
                                            args.timeout)
    ok = True
    for r in results:
        print(json.dumps(r), flush=True)
        ok = ok and r["error"] is None and r["records"] >= topics[r["topic"]]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
