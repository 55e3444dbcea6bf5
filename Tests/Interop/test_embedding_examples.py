"""The two embedding guides' programs (Tools/embedding-example, Tools/coordinator-example) run
and print what their guides say they print, so that the guides cannot drift from the API."""
import pathlib
import subprocess

from conftest import ROOT


def example(petrel, name):
    path = pathlib.Path(petrel).parent / name
    assert path.exists(), f"{path} not built (swift build builds every product)"
    done = subprocess.run([str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_storage_embedding_example_runs(petrel):
    output = example(petrel, "petrel-embedding-example")
    assert "appended order 3 at offset 2" in output, output


def test_the_coordinator_embedding_example_commits_and_replays(petrel):
    output = example(petrel, "petrel-coordinator-example")
    assert "joined generation 1; leader: true" in output, output
    assert "OffsetCommit: acknowledged" in output, output
    assert "after a restart: committed offset 42, group [\"orders-service empty\"]" in output, output
