"""Model portfolios: ordered configuration lists, kept as JSON data (shipped as automl.portfolios)."""
