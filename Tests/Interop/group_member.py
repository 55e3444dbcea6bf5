"""One member of a consumer group (confluent-kafka), for the delivery tests: it consumes, "processes"
each record by writing it to its log file, and commits each offset after processing
(at-least-once) or before it (at-most-once). Every line goes to the kernel as it is written, so
a SIGKILL loses nothing the file shows.

    group_member.py ADDRESS TOPIC GROUP MODE LOG_PATH PROCESS_MS

Log lines: `P partition offset value` (processed), `C partition offset` (a commit of offset
acknowledged), `F partition offset` (a commit refused: the member lost the partition)."""
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition


def main():
    address, topic, group, mode, log_path, process_ms = sys.argv[1:7]
    delay = int(process_ms) / 1000
    consumer = Consumer({"bootstrap.servers": address, "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 2000, "heartbeat.interval.ms": 200,
                         "max.poll.interval.ms": 20000})
    consumer.subscribe([topic])
    log = open(log_path, "a", buffering=1)

    def commit(partition, offset):
        try:
            consumer.commit(offsets=[TopicPartition(topic, partition, offset)], asynchronous=False)
            log.write(f"C {partition} {offset}\n")
            return True
        except KafkaException:
            log.write(f"F {partition} {offset}\n")
            return False

    while True:
        message = consumer.poll(0.2)
        if message is None or message.error() is not None:
            continue
        partition, offset, value = message.partition(), message.offset(), message.value().decode()
        if mode == "at-least-once":
            time.sleep(delay)
            log.write(f"P {partition} {offset} {value}\n")
            commit(partition, offset + 1)
        else:
            # Committed first: a record whose commit is refused is not processed here (another
            # member will get it), and a kill between commit and processing loses it.
            if commit(partition, offset + 1):
                time.sleep(delay)
                log.write(f"P {partition} {offset} {value}\n")


if __name__ == "__main__":
    main()
