"""``hfcrawl search``: TF-IDF ranking of a run's models by card text, tags and name."""
