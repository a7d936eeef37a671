# Pacer image: any role — `docker run pacer dev|master|agent …`.
# Build stage compiles TypeScript; the final stage holds production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# postgres.js 3.4.9 patched (patches/README.md); the runtime stage copies the patched package.
COPY patches ./patches
RUN npx patch-package
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY build-ui.ts ./
# The build makes the PGlite template new dev data directories start from: it needs the migrations.
COPY drizzle ./drizzle
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# bubblewrap sandboxes native command tasks on agents started with --allow-commands.
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production PACER_DATA_DIR=/data PACER_WORK_DIR=/data/agent PORT=8080
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/node_modules/postgres ./node_modules/postgres
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY drizzle ./drizzle
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# bin/pacer execs node, with the agent's V8 flags for `agent` (issue 14).
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/pacer"]
# 0.0.0.0 is needed inside a container, so this starts only with PACER_BOOTSTRAP_TOKEN (or
# --bootstrap-token-file) set, or with --insecure given explicitly (README, Authentication).
CMD ["dev", "--host", "0.0.0.0"]
