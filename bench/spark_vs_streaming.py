"""Local Spark (amparo.spark) against the embedded streaming path (the CLI
reading a folder of Parquet files batch by batch), on the same records in
the same run, with the same policy: B5 (six countries by admin-1, year, age
band, sex, accompaniment and status) protected by the cell key method, so
that the time is mostly turning records into the table. Checks that both
give the same table, and prints the times and their ratio.

    .venv/bin/python bench/spark_vs_streaming.py [records, default 10^7] [files, default 4] [amparo CLI]

Spark runs as local[2] (both cores); its start-up is timed apart.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

import amparo
import amparo.spark

ROOT = Path(__file__).resolve().parents[1]


def policy() -> amparo.Policy:
    text = (ROOT / "bench" / "tables" / "B5.toml").read_text().replace('"METHOD"', '"interval"')
    spec = amparo.Policy.from_toml(text, ROOT / "bench" / "tables").to_dict()
    spec["input"]["record_key"] = "record_key"
    for section in ("primary", "secondary"):
        spec.pop(section, None)
    spec["perturbation"] = {"method": "cell_key", "max_deviation": 2, "variance": 1}
    return amparo.Policy.from_dict(spec, ROOT / "bench" / "tables")


def main() -> None:
    records = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    cli = sys.argv[3] if len(sys.argv) > 3 else str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "amparo")
    chosen = policy()
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        folder = work / "records"
        folder.mkdir()
        t = time.perf_counter()
        for k in range(files):
            amparo.synth(folder / f"part-{k:03d}.parquet", records=records // files, mode="stock", years=5, seed=k + 1)
        generated = time.perf_counter() - t
        policy_file = work / "policy.toml"
        policy_file.write_text(chosen.to_toml())

        t = time.perf_counter()
        out = work / "embedded.parquet"
        subprocess.run([cli, "protect", "-p", str(policy_file), str(folder), "-o", str(out)], check=True, capture_output=True)
        embedded = time.perf_counter() - t

        from pyspark.sql import SparkSession

        # The workers' Python is this one, where amparo is installed.
        os.environ["PYSPARK_PYTHON"] = sys.executable

        t = time.perf_counter()
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("amparo-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "8g")
            .getOrCreate()
        )
        spark.range(1).collect()
        started = time.perf_counter() - t
        t = time.perf_counter()
        on_spark = amparo.spark.protect_arrow(spark.read.parquet(str(folder)), chosen)
        with_spark = time.perf_counter() - t
        spark.stop()

        from_cli = amparo.read_table(out)
        same = on_spark.replace_schema_metadata(None).equals(from_cli.replace_schema_metadata(None))
        print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; {records:,} records in {files} Parquet files, generated in {generated:.1f} s")
        print(f"policy: B5 regional report, cell key method; {from_cli.num_rows:,} cells; same table from both paths: {same}")
        print()
        print("| path | seconds | records/second |")
        print("|---|---|---|")
        print(f"| embedded streaming (`amparo protect` on the folder) | {embedded:.1f} | {records / embedded / 1e6:.2f} million |")
        print(f"| local Spark, local[2] (`amparo.spark.protect_arrow`; start-up {started:.1f} s apart) | {with_spark:.1f} | {records / with_spark / 1e6:.2f} million |")
        print()
        print(f"ratio, Spark / embedded: {with_spark / embedded:.2f}")
        if not same:
            sys.exit("the two paths gave different tables")


if __name__ == "__main__":
    main()
