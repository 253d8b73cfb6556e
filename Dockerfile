# syntax=docker/dockerfile:1
# gloo-guard image: compiled JavaScript and production dependencies on distroless Node 26, the Node LTS
# that CI runs (.node-version). Both bases are pinned by digest. The digests are the ones public
# Dockerfiles pin for these tags (found with a code search on 2026-11-29: node:26-trixie-slim@sha256:9305...
# in two repositories, distroless nodejs26-debian13:nonroot@sha256:afc6...); no registry was asked from
# here. To move on: docker buildx imagetools inspect <name:tag> prints the current digest.

# 1. Build: compile TypeScript with the dev dependencies.
FROM node:26-trixie-slim@sha256:930557a230abacbc3f4fd9b8648abf8f4bee1e17cb72195dcdfb2f709bc85b33 AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --omit=peer skips aws-cdk-lib, a peer of the helm test packages that no build step uses;
# --ignore-scripts: compiling needs no install script.
RUN npm ci --omit=peer --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only, installed apart so that no dev tool reaches the image.
FROM node:26-trixie-slim@sha256:930557a230abacbc3f4fd9b8648abf8f4bee1e17cb72195dcdfb2f709bc85b33 AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: no shell, no package manager, non-root. Files stay owned by root, so the process
#    cannot change its own code; the chart adds a read-only root filesystem on top.
FROM gcr.io/distroless/nodejs26-debian13:nonroot@sha256:afc6657a4b662f9cb69ca892b0596e55d6ef81a10e83ee8887b13f602877df89
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module" (dist is ESM) and the version the CLI prints.
COPY --from=deps --chown=0:0 /app/package.json ./package.json
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist ./dist
USER 65532:65532
EXPOSE 8443
# Exec form: node itself is PID 1 and receives SIGTERM directly (the server drains and exits on it;
# as PID 1 node has no default signal handlers, so the server installs its own). The image is the
# gloo-guard CLI: `docker run IMAGE check ...` works, and the chart passes `serve ...` as args.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "/app/dist/cli/main.js"]
CMD ["serve", "--port", "8443"]
