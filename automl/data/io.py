"""Reading tables from files: CSV (any delimiter, gzipped or not), TSV and Parquet."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pandas as pd


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"File not found: {path}")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.stat().st_size == 0:
        raise ValueError(f"The file {path} is empty.")
    sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else _sniff_delimiter(path)
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise ValueError(f"The file {path} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"Could not read {path} as a table: {exc}") from None
    return frame


def _sniff_delimiter(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        sample = f.read(64_000)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
