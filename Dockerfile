# syntax=docker/dockerfile:1
# The gateway: MQTT on 1883, HTTP API and web page on 8080. See docs/docker.md.

# --- build: install dependencies, compiling better-sqlite3's native module -----------------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The typecheck guards the image against shipping a broken tree; then drop dev dependencies.
RUN npx tsc -p tsconfig.json --noEmit \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: no compiler, non-root ------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    GATEWAY_HTTP_HOST=0.0.0.0 \
    GATEWAY_HTTP_PORT=8080 \
    GATEWAY_MQTT_HOST=0.0.0.0 \
    GATEWAY_MQTT_PORT=1883 \
    GATEWAY_DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# A named volume mounted here takes this directory's owner, so the node user can write it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 1883 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GATEWAY_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs (tsx src/main.ts), but as PID 1 itself: npm does not pass SIGTERM on to
# its child (checked: `kill -TERM <npm pid>` left the gateway running), so `docker stop` would
# end in SIGKILL instead of the gateway's clean shutdown (flush the last batch, close stores).
CMD ["node", "--import", "tsx", "src/main.ts"]
