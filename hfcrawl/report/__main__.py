import sys

from hfcrawl.report.cli import main

sys.exit(main())
