# wa-gateway's container image. Two stages build and run it; a third target adds the open-wa engine.
#   docker build -t wa-gateway .                      the default: the sandbox and Baileys engines, SQLite in /data
#   docker build --target open-wa -t wa-gateway:open-wa .   plus Debian's Chromium and @open-wa/wa-automate
# The base images are build arguments so machines without a registry can pass images made locally
# (scripts/container-base-images.sh): BUILD_IMAGE needs node, npm, python3, make and g++ (better-sqlite3
# compiles if its prebuilt binary cannot be fetched); RUNTIME_IMAGE needs node only.
ARG BUILD_IMAGE=node:24-bookworm
ARG RUNTIME_IMAGE=node:24-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# Dependencies first, in a layer of their own: a change to the code alone does not install them again.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json tsconfig.dashboard.json ./
COPY scripts/bundle.mjs scripts/bundle-options.mjs scripts/install-open-wa.mjs scripts/
COPY src src
COPY rest-compat rest-compat
COPY dashboard dashboard
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# The open-wa runtime (about 940 packages) in a folder of its own, only for the open-wa target.
FROM build AS open-wa-runtime
RUN OPEN_WA_RUNTIME_DIR=/opt/open-wa node scripts/install-open-wa.mjs

FROM ${RUNTIME_IMAGE} AS app
# HOST=0.0.0.0: other containers and the published port reach the server. Without a key the server then
# refuses to start (an open API on every interface); ALLOW_NO_KEY=true starts it anyway.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
# A fixed numeric user, so Kubernetes' runAsNonRoot can check it and volumes can be prepared for it.
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin gateway \
 && mkdir -p /data && chown 10001:10001 /data && chmod 0700 /data
# The code stays root's and read-only to the server; only /data is written.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/dashboard dashboard
COPY scripts/container-healthcheck.mjs scripts/
VOLUME /data
EXPOSE 8080
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "scripts/container-healthcheck.mjs"]
# node is PID 1 and handles SIGTERM itself (it drains, then exits); no shell in between to swallow it.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=64", "dist/bundle/main.js"]

# The open-wa engine: Debian's Chromium, the open-wa runtime, and tini as PID 1 to reap Chromium's
# children (node does not reap processes it did not start).
FROM app AS open-wa
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=open-wa-runtime /opt/open-wa /opt/open-wa
ENV ENGINE=open-wa \
    OPEN_WA_RUNTIME_DIR=/opt/open-wa \
    CHROMIUM_PATH=/usr/bin/chromium
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=64", "dist/bundle/main.js"]

# The default target (the last stage): the sandbox and Baileys engines (Baileys is a production dependency and
# needs no browser; ENGINE=baileys makes it the default).
FROM app AS runtime
