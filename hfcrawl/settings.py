"""hfcrawl's settings. Override any of them with ``-s NAME=VALUE``.

The Hub endpoint and token come from the environment as huggingface_hub reads
them (``HF_ENDPOINT``, ``HF_TOKEN`` or the stored login); ``-s HF_ENDPOINT=...``
and ``-s HF_TOKEN=...`` take precedence.
"""

from hfcrawl import __version__

# --- identity -------------------------------------------------------------------
BOT_NAME = "hfcrawl"
SPIDER_MODULES = ["hfcrawl.spiders"]
NEWSPIDER_MODULE = "hfcrawl.spiders"
COMMANDS_MODULE = "hfcrawl.commands"
USER_AGENT = f"hfcrawl/{__version__} (+https://pypi.org/project/hfcrawl/; Scrapy)"
# The Hub API is a documented programmatic interface that announces its own quota
# on every response; robots.txt is written for its HTML pages.
ROBOTSTXT_OBEY = False

# --- the Hub --------------------------------------------------------------------
HF_ENDPOINT = None  # None: $HF_ENDPOINT, else https://huggingface.co
HF_TOKEN = None  # None: huggingface_hub.get_token() (HF_TOKEN, stored login)
HFCRAWL_SEND_TOKEN = True

# --- politeness -----------------------------------------------------------------
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 60.0
# as many in flight as the per-domain limit allows while the Hub answers as fast
# as usual; AutoThrottle backs off when it slows down, the quota is the pacer's
AUTOTHROTTLE_TARGET_CONCURRENCY = 8.0

# Scrapy reads and parses a generator callback's source on every response to warn
# about ``return value`` in generators; its cache is weakly keyed by the bound
# method, new on every Request, so it never hits: ~6 ms a response on this
# project's machine, for a warning no callback here can earn (ruff checks them).
WARN_ON_GENERATOR_RETURN_VALUE = False
DOWNLOAD_DELAY = 0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_TIMEOUT = 60

# --- retries --------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 5
# 429 is HubRateLimitMiddleware's: it waits what the Hub says, then retries
RETRY_HTTP_CODES = [408, 500, 502, 503, 504, 522, 524]
HFCRAWL_RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry, doubling
HFCRAWL_RETRY_BACKOFF_MAX = 30.0
HFCRAWL_RATELIMIT_RESERVE = 1  # requests kept in hand in each quota window
HFCRAWL_RATELIMIT_MARGIN = 0.5  # seconds added to every wait the Hub announces
HFCRAWL_MAX_429_RETRIES = 10
# 1,000-model pages with every field are several MB: allow them, warn on 64 MB
DOWNLOAD_MAXSIZE = 512 * 1024 * 1024
DOWNLOAD_WARNSIZE = 64 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "hfcrawl.ratelimit.BackoffRetryMiddleware": 550,
    # above the retries: an endpoint that never answered fails the crawl at once
    "hfcrawl.reachability.EndpointReachabilityMiddleware": 600,
    "hfcrawl.ratelimit.HubRateLimitMiddleware": 650,
    # closest to the download: the header is added last and removed first, so
    # no retried or redirected copy of a request (nor JOBDIR) ever holds it
    "hfcrawl.middlewares.HubAuthMiddleware": 900,
}

# --- items ----------------------------------------------------------------------
ITEM_PIPELINES = {
    "hfcrawl.pipelines.validate.ValidatePipeline": 100,
    "hfcrawl.pipelines.dedup.DedupPipeline": 200,
    "hfcrawl.pipelines.export.ExportPipeline": 300,
    # last: a checkpoint is saved once the rows before it are written
    "hfcrawl.pipelines.checkpoint.CheckpointPipeline": 1000,
}
# Feeds see rows, not the batches rows travel in (hfcrawl.feeds).
EXTENSIONS = {
    "scrapy.extensions.feedexport.FeedExporter": None,
    "hfcrawl.feeds.RowFeedExporter": 0,
    "hfcrawl.extensions.GcTuningExtension": 0,
    "hfcrawl.extensions.JobdirQueueReset": 0,
    "hfcrawl.extensions.ProgressExtension": 0,
    "hfcrawl.outcome.OutcomeExtension": 0,
    "hfcrawl.logformatter.ShortUrlLogs": 0,
}
HFCRAWL_PROGRESS_INTERVAL = 30.0  # seconds between progress lines; 0: none
LOGSTATS_INTERVAL = 0  # Scrapy's pages/items line counts batches, not rows
HFCRAWL_GC_THRESHOLD = 100_000  # see hfcrawl.extensions.GcTuningExtension
FEED_EXPORTERS = {"parquet": "hfcrawl.exporters.ParquetItemExporter"}
FEED_EXPORT_ENCODING = "utf-8"
# Scrapy logs every scraped item at DEBUG; at 1,000 rows an item that is noise.
LOG_FORMATTER = "hfcrawl.logformatter.QuietLogFormatter"

# --- run folders ----------------------------------------------------------------
HFCRAWL_EXPORT_DIR = "exports"  # exports/<spider>/<run id>/<table>/part-*.parquet
HFCRAWL_RUN_ID = None  # None: JOBDIR's, scrapyd's job id, else the UTC start time
HFCRAWL_PART_ROWS = 100_000
HFCRAWL_ROW_GROUP_ROWS = 10_000
HFCRAWL_PARQUET_COMPRESSION = "zstd"
# The JSON Lines mirror of every Parquet part (jsonl/<table>/part-N.jsonl.gz):
# off by default, ~20x the Parquet's size uncompressed; gzip or none when on.
HFCRAWL_JSONL = False
HFCRAWL_JSONL_COMPRESSION = "gzip"
HFCRAWL_EXPORT_ENABLED = True

# --- logging and control ------------------------------------------------------
# INFO: one line per notable event, not per request; -L DEBUG for every request.
LOG_LEVEL = "INFO"
# the stats are in the run folder's manifest.json (and the closing line sums
# them up); -s STATS_DUMP=true prints Scrapy's dump at the end as well
STATS_DUMP = False
HFCRAWL_LOG_FULL_URLS = False  # True: log request URLs whole, expand[] list and all
# No listener in the crawl process: both would let any local process drive a
# crawl that holds the Hub token. Scrapy 2.19's remote control also runs posted
# Python code and writes its port and key to a job file in the user's profile.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- leaderboard ----------------------------------------------------------------
# (Playwright's own settings are the leaderboard spider's custom_settings.)
HFCRAWL_CHROMIUM = None  # None: $HFCRAWL_CHROMIUM, else /usr/bin/chromium if present
HFCRAWL_LEADERBOARD_TIMEOUT = 120.0  # seconds for a (possibly waking) Space to render
HFCRAWL_LEADERBOARD_SETTLE_MS = 150  # wait after a scroll that showed no new row
HFCRAWL_DATASETS_SERVER_ENDPOINT = "https://datasets-server.huggingface.co"

# --- model cards ----------------------------------------------------------------
# README text (and front matter text) stored per card at most; the front matter
# is parsed whole whatever its size (a bigger card is flagged ``truncated``).
HFCRAWL_CARD_MAX_BYTES = 1 << 20

# --- papers (arxiv, papers) -----------------------------------------------------
ARXIV_ENDPOINT = "https://export.arxiv.org"
HFCRAWL_ARXIV_BATCH = 100  # ids per arXiv query (id_list); 100 at most
# arXiv's terms: at most one request every 3 seconds, over one connection. Its
# requests go through this download slot (request meta download_slot), exempt
# from AutoThrottle; the arxiv spider refuses less for any host but loopback.
DOWNLOAD_SLOTS = {"arxiv": {"concurrency": 1, "delay": 3.0, "jitter": 0.0}}
# the delay of these slots counts from the previous answer (hfcrawl.slotpacing)
HFCRAWL_ANSWER_PACED_SLOTS = ["arxiv"]
EXTENSIONS["hfcrawl.slotpacing.AnswerPacedSlots"] = 0

# --- many processes on one Redis (hfcrawl.scaleout) ----------------------------
# -s REDIS_URL=redis://host:port/db (with -s HFCRAWL_RUN_ID=<id>) makes this
# process one worker of a shared run; unset, nothing of it is loaded.
ADDONS = {"hfcrawl.scaleout.addon.ScaleOut": 0}
REDIS_URL = None
HFCRAWL_REDIS_WORKER_TTL = 30.0  # seconds without a heartbeat: taken for dead
HFCRAWL_REDIS_POLL = 0.2  # seconds between looks at the shared queue when idle
HFCRAWL_REDIS_PREFETCH = 4  # requests leased per pop
