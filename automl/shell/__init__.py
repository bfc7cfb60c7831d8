"""The user-facing shell around the engine: the ``automl`` command (``cli``), its progress display
(``progress``) and the HTML report with its charts (``report``, ``plots``)."""
