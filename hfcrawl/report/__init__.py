"""``hfcrawl report``: one self-contained HTML report of a run folder."""
