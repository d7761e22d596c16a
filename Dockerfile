# smsbot: the Slack app that sends SMS through Mobizon.
#   docker build -t smsbot .
#   docker run -p 3000:3000 -v smsbot-data:/data --env-file smsbot.env smsbot
# Without MOBIZON_API_KEY it runs in sandbox mode (the built-in simulator; nothing is sent).
# Shutdown waits up to ~40 s for sends in flight and the outbox: stop it with `docker stop -t 45`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY pyproject.toml README.md /tmp/smsbot/
COPY bot /tmp/smsbot/bot
COPY handlers /tmp/smsbot/handlers
COPY storage /tmp/smsbot/storage
# dependencies come from pyproject.toml; the source tree is not needed once installed
RUN cd /tmp/smsbot && pip install . && cd / && rm -rf /tmp/smsbot

# a non-root user owns the data volume, where the SQLite database lives
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin smsbot \
    && mkdir -p /data && chown smsbot:smsbot /data
VOLUME ["/data"]
WORKDIR /data

ENV SMSBOT_DB=/data/smsbot.db \
    HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000

USER smsbot

# slim has no curl: ask /healthz with Python (an HTTP error or no answer exits non-zero)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

STOPSIGNAL SIGTERM
CMD ["smsbot", "serve"]
