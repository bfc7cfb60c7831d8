"""A raw CSV file with strings, dates, missing values, an ID and useless columns, used as it is.

Column types are inferred on the training rows (numbers, categories, dates -> year, month, day,
weekday, hour and an ordinal); IDs, constant and empty columns are dropped, and the fitted
encoder says why. At predict, unseen categories and new missing values are handled.

Run: python examples/raw_csv.py
"""
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from automl import AutoMLClassifier

TIME_LIMIT = float(os.environ.get("AUTOML_EXAMPLE_TIME_LIMIT", 60))

# A small, messy table of subscriptions, written to CSV the way it would come from an export.
rng = np.random.default_rng(0)
n = 600
plan = rng.choice(["basic", "plus", "premium", None], size=n, p=[0.5, 0.3, 0.15, 0.05])
signup = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
monthly_fee = np.where(plan == "premium", 30.0, np.where(plan == "plus", 15.0, 8.0)) + rng.normal(0, 1, n)
support_calls = rng.poisson(1.5, n)
churn_risk = 0.8 * support_calls - 0.002 * (signup - signup.min()).days + (plan == "basic") + rng.normal(0, 1, n)
table = pd.DataFrame({
    "customer_id": [f"C{100000 + i}" for i in range(n)],          # unique per row: dropped as an ID
    "plan": plan,                                                  # strings with missing values
    "signup_date": signup.strftime("%Y-%m-%d"),                    # dates written as text
    "monthly_fee": np.where(rng.random(n) < 0.05, np.nan, monthly_fee.round(2)),
    "support_calls": support_calls,
    "country": "FR",                                               # constant: dropped
    "notes": None,                                                 # empty: dropped
    "churned": np.where(churn_risk > np.quantile(churn_risk, 0.7), "yes", "no"),
})
folder = Path(tempfile.mkdtemp(prefix="automl-example-"))
table.iloc[:500].to_csv(folder / "subscriptions.csv", index=False)

# fit takes the CSV path and the name of the target column.
model = AutoMLClassifier(time_limit=TIME_LIMIT, random_state=0).fit(folder / "subscriptions.csv", y="churned")
schema = model.encoder_.schema_
print("inferred column types:", schema.kinds)
print("dropped columns:", schema.dropped)

# New rows: an unseen plan ("enterprise") and a missing date are fine.
new_rows = table.iloc[500:].drop(columns="churned").copy()
new_rows.iloc[0, new_rows.columns.get_loc("plan")] = "enterprise"
new_rows.iloc[1, new_rows.columns.get_loc("signup_date")] = None
predicted = model.predict(new_rows)
accuracy = float(np.mean(predicted == table["churned"].iloc[500:].to_numpy()))
print(f"accuracy on {len(new_rows)} new rows: {accuracy:.3f}")
