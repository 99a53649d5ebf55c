# The U4SSC meeting calendar as one image: a build stage makes the virtual environment from
# uv.lock and the package's wheel, the runtime carries only Debian's Python and that
# environment. SQLite on /data by default.

FROM debian:bookworm-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# uv at the version scripts/uv pins, only to read the lock: pip downloads (it honours pip.conf).
COPY scripts/uv scripts/check_lock.py scripts/
RUN python3 -m venv /opt/tools \
    && /opt/tools/bin/pip install -q "uv==$(sed -n 's/^UV_VERSION=//p' scripts/uv)"
# The dependencies exactly as uv.lock has them (versions and hashes), from the lock alone, so
# that a change to the code reuses this layer.
COPY pyproject.toml uv.lock ./
RUN /opt/tools/bin/uv export --locked --offline --no-dev --no-emit-project --format requirements-txt \
        --quiet --output-file /tmp/requirements.txt \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install -q --require-hashes --no-deps -r /tmp/requirements.txt
# The package as a wheel built from the sources (the seed travels inside it, as app/seed/), then
# a check that the environment holds exactly what the lock says.
COPY README.md setup.py ./
COPY app/ app/
COPY seed/ seed/
RUN /opt/tools/bin/pip wheel -q --no-deps --wheel-dir /tmp/dist . \
    && /opt/venv/bin/pip install -q --no-deps /tmp/dist/u4ssc_calendar-*.whl \
    && /opt/venv/bin/python scripts/check_lock.py --lock uv.lock \
    && /opt/venv/bin/pip uninstall -q -y pip setuptools \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

# The runtime file system: Debian's Python and the environment, nothing else. The last stage
# copies it whole into one layer, so that what the base image keeps and this stage removes
# (apt's caches and lists, documentation) takes no room in the image.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/* \
        /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/*
RUN groupadd --system --gid 10001 u4ssc \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin u4ssc \
    && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv

FROM scratch
COPY --from=runtime / /
# The store is the volume's SQLite file, named here so that `docker exec ... u4ssc-calendar`
# finds the one `serve` uses (outside a container the default is the user's data folder).
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/u4ssc-calendar.db \
    PORT=8000 \
    FORWARDED_ALLOW_IPS=127.0.0.1
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["u4ssc-calendar", "serve", "--host", "0.0.0.0"]
