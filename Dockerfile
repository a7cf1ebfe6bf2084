# Pulse container: one compiled executable on a slim Debian.
#   docker build -t pulse .
#   docker run -p 8080:8080 -p 1883:1883 -v pulse-data:/var/lib/pulse pulse
# The admin password is printed in the container log on first start.

# --- build: Bun compiles src/ (with migrations, web assets, PGlite) into dist/pulse
FROM oven/bun:1 AS build
WORKDIR /src
# .git stays out of the context; pass the commit for `pulse version` explicitly:
#   docker build --build-arg PULSE_BUILD_COMMIT=$(git rev-parse --short HEAD) .
ARG PULSE_BUILD_COMMIT=unknown
ENV PULSE_BUILD_COMMIT=$PULSE_BUILD_COMMIT
# Dependencies first, so code changes do not re-run the install layer.
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

# --- runtime: plain glibc Debian; the compiled binary needs nothing else
FROM debian:bookworm-slim
# ca-certificates: outbound TLS (webhooks, OIDC, SMTP); tini: reaps and forwards signals
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
# Fixed uid so volume ownership survives image rebuilds; dir made before VOLUME
# so a fresh named volume starts out owned by pulse.
RUN groupadd --system --gid 10001 pulse \
 && useradd --system --uid 10001 --gid pulse --home-dir /var/lib/pulse --no-create-home --shell /usr/sbin/nologin pulse \
 && install -d -o pulse -g pulse -m 0750 /var/lib/pulse
COPY --from=build /src/dist/pulse /usr/local/bin/pulse
ENV PULSE_DATA_DIR=/var/lib/pulse
VOLUME /var/lib/pulse
WORKDIR /var/lib/pulse
# HTTP (UI, API, ingest, MQTT over WebSocket), MQTT, MQTT over TLS
EXPOSE 8080 1883 8883
USER pulse
# No curl in the image: Pulse checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/pulse", "healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/pulse"]
CMD ["serve"]
