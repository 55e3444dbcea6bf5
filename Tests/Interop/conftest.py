"""Shared fixtures for interop tests: where the petrel binary is."""
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def petrel():
    """Path of the petrel executable: $PETREL_BIN, or the debug build under .build/."""
    path = os.environ.get("PETREL_BIN") or str(ROOT / ".build" / "debug" / "petrel")
    if not os.access(path, os.X_OK):
        pytest.fail(f"petrel executable not found at {path}: run `swift build` first or set PETREL_BIN")
    return path


def run(args, stdin=b""):
    """Runs a command with a time bound and returns its stdout; fails the test on a non-zero exit."""
    done = subprocess.run(args, input=stdin, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def retrying(call, timeout=30):
    """Calls `call` until it stops raising a retriable Kafka error (a coordinator still loading
    its partition answers COORDINATOR_LOAD_IN_PROGRESS, as Kafka's does, and kafka-python's admin
    client raises it instead of retrying)."""
    from kafka.errors import KafkaError
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except KafkaError as error:
            if not getattr(error, "retriable", False) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
