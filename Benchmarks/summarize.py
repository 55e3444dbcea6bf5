#!/usr/bin/env python3
"""Turns the text output of `swift package benchmark --scale` (and `lz4 -b1`) into the README's table:
p50 figures with units a reader can compare with the goals, beside the baselines of the same run."""
import re
import sys

RECORDS_PER_BATCH = 1000
MIB = 1 << 20


def parse(lines):
    results, name = {}, None
    for line in lines:
        line = line.rstrip("\n")
        if re.match(r"^(CRC32C|memcpy|Build|Decode|LZ4) ", line):
            name = line.strip()
            results[name] = {}
        elif name and line.startswith("│") and "Metric" not in line:
            cells = [c.strip() for c in line.strip("│").split("│")]
            metric, p50 = cells[0], cells[3]
            scale = {"(K)": 1e3, "(M)": 1e6, "(G)": 1e9}.get(metric.split()[-1], 1)
            unit = re.search(r"\((μs|ns|ms|s)\)", metric)
            if metric.startswith("Time (wall clock)") and unit:
                results[name]["seconds"] = float(p50) * {"ns": 1e-9, "μs": 1e-6, "ms": 1e-3, "s": 1}[unit.group(1)]
            elif metric.startswith("Malloc (total)"):
                results[name]["mallocs"] = float(p50) * scale
    return results


def main(path):
    lines = open(path, encoding="utf-8").read().replace("\r", "\n").splitlines()
    results = parse(lines)
    lz4_cli = None
    for line in lines:
        m = re.search(r"MB/s ,\s*([\d.]+) MB/s", line)
        if m:
            lz4_cli = float(m.group(1)) * 1e6
    crc = MIB / results["CRC32C 1 MiB"]["seconds"]
    memcpy = MIB / results["memcpy 1 MiB (baseline)"]["seconds"]
    print("| benchmark (p50) | figure | allocations |")
    print("|---|---|---|")
    print(f"| memcpy 1 MiB (memory baseline) | {memcpy / 1e9:.1f} GB/s | 0 |")
    print(f"| CRC32C 1 MiB | {crc / 1e9:.1f} GB/s ({crc / memcpy:.2f}× memcpy) | {results['CRC32C 1 MiB'].get('mallocs', 0):.0f} |")
    for kind in ("Decode", "Build"):
        for size in ("100 B", "1 KiB"):
            for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
                r = results.get(f"{kind} {codec} {size}")
                if not r:
                    continue
                rate = RECORDS_PER_BATCH / r["seconds"]
                per_record = r.get("mallocs", 0) / RECORDS_PER_BATCH
                print(f"| {kind} {codec}, {size} records | {rate / 1e6:.2f} M records/s | {per_record:.3f} per record |")
    lz4 = next((v for k, v in results.items() if k.startswith("LZ4 decompress")), None)
    if lz4:
        size = int(re.search(r"\((\d+) B\)", next(k for k in results if k.startswith("LZ4 decompress"))).group(1))
        ours = size / lz4["seconds"]
        ratio = f" = {ours / lz4_cli:.2f}× `lz4 -b1` ({lz4_cli / 1e6:.0f} MB/s)" if lz4_cli else ""
        print(f"| LZ4 decompress, 1 MiB records section | {ours / 1e6:.0f} MB/s{ratio} | {lz4.get('mallocs', 0):.0f} per call |")


if __name__ == "__main__":
    main(sys.argv[1])
