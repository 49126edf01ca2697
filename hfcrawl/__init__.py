"""hfcrawl: the Hugging Face Hub as typed, analysis-ready tables."""

__version__ = "0.1.0"
