"""Starts `petrel broker` on 127.0.0.1 for a test, bounded in time, and stops it by its PID."""
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, petrel, data_dir, port=None, extra_args=(), log_path=None):
        """log_path: a file for the broker's output instead of a pipe nobody reads while it runs
        (a broker that logs much would fill the pipe and block)."""
        self.petrel, self.data_dir = petrel, data_dir
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.log_path = log_path
        self.process = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=20):
        output = open(self.log_path, "ab") if self.log_path else subprocess.PIPE
        self.process = subprocess.Popen([self.petrel, "broker", "--data-dir", str(self.data_dir), "--listen", self.address,
                                         *self.extra_args],
                                        stdout=output, stderr=subprocess.STDOUT)
        if self.log_path:
            output.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = open(self.log_path, "rb").read() if self.log_path else self.process.stdout.read()
                raise AssertionError(f"broker exited: {text.decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise AssertionError("broker did not start listening")

    def stop(self, timeout=30):
        """SIGTERM: a clean shutdown (flush, checkpoints, clean-shutdown marker)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("broker did not stop on SIGTERM")
        return self.process.returncode

    def kill(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
