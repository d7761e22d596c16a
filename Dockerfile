# smsbot: the Slack app that sends SMS through Mobizon.
#   docker build -t smsbot .
#   docker run -p 3000:3000 -v smsbot-data:/data --env-file smsbot.env smsbot
# It needs MOBIZON_API_KEY, or SMSBOT_SANDBOX=1 to run against the built-in simulator (nothing sent).
# Shutdown waits up to ~40 s for sends in flight and the outbox: stop it with `docker stop -t 45`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# a non-root user owns the data volume, where the SQLite database lives
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin smsbot \
    && mkdir -p /data && chown smsbot:smsbot /data

# dependencies first, from pyproject.toml alone: a change to the code reuses this layer
COPY pyproject.toml /tmp/smsbot/pyproject.toml
# (with the build backend, so building smsbot below downloads nothing)
RUN python -c "import tomllib; p = tomllib.load(open('/tmp/smsbot/pyproject.toml', 'rb')); print('\n'.join(p['project']['dependencies'] + p['build-system']['requires']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# then smsbot itself, without touching the dependencies; the source tree is not kept
COPY README.md /tmp/smsbot/
COPY bot /tmp/smsbot/bot
COPY handlers /tmp/smsbot/handlers
COPY storage /tmp/smsbot/storage
RUN pip install --no-deps --no-build-isolation /tmp/smsbot && rm -rf /tmp/smsbot

VOLUME ["/data"]
WORKDIR /data

ENV SMSBOT_DB=/data/smsbot.db \
    HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000

USER smsbot

# slim has no curl: ask /healthz with Python (an HTTP error or no answer exits non-zero);
# every second during the first 30 s, so the container is healthy moments after it is up
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --start-interval=1s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

CMD ["smsbot", "serve"]
