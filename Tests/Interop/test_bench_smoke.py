"""`petrel bench --quick` completes and writes a result that matches its JSON schema, a Markdown
table and an SVG chart. No timing is asserted: figures are for benchmarks, not tests."""
import json
import pathlib

import jsonschema

from conftest import ROOT, run


def test_quick_bench_writes_a_valid_result(petrel, tmp_path):
    output = tmp_path / "out"
    run([petrel, "bench", "--quick", "--output", str(output), "--data-dir", str(tmp_path / "data")])
    result = json.loads((output / "bench-result.json").read_text())
    schema = json.loads((ROOT / "Benchmarks" / "bench-result.schema.json").read_text())
    jsonschema.validate(result, schema)
    names = {w["name"] for w in result["workloads"]}
    assert {"append-1k-b64-x1-none", "append-1k-b1-x64-ack", "read-seq-warm", "lookup-offset", "recovery-unclean",
            "open-clean-segments", "fsck"} <= names
    assert "| workload |" in (output / "bench-result.md").read_text()
    assert (output / "bench-result.svg").read_text().startswith("<svg")
    assert not (tmp_path / "data").exists(), "the scratch data directory is removed"
