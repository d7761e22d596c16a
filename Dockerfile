# smsbot: the Slack app that sends SMS through Mobizon. Builds on Docker 20.10 or later.
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

# slim has no curl, and a Python start costs more than bash: bash asks /healthz over its /dev/tcp
# (no answer, or anything but 200, exits non-zero). Docker 20.10 has no --start-interval and runs the
# first check one interval after start, so the interval itself is short: healthy seconds after start.
HEALTHCHECK --interval=2s --timeout=3s --start-period=60s --retries=5 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-3000} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == HTTP/1.[01]' 200 '* ]]"]

CMD ["smsbot", "serve"]
