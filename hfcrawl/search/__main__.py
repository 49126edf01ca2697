import sys

from hfcrawl.search.cli import main

sys.exit(main())
