# syntax=docker/dockerfile:1
# The webhook's container image, on Node 24 LTS: the same Node version CI tests (scripts/ci-node.sh).
# The Deployment relies on: USER numeric and non-root (runAsNonRoot is checked against it), /bin/sleep
# (its preStop hook), nothing written outside /tmp (readOnlyRootFilesystem).
#
# The base is pinned by digest, so a rebuild gets the same bytes until someone moves it on purpose.
# This digest is the multi-platform index of node:24-bookworm-slim (Node 24.19.0) as published in
# Docker's official-images record: github.com/docker-library/repo-info, repos/node/remote/
# 24-bookworm-slim.md, commit e2e97043fc3e24482c19623a66ea8fc74d2546e0.
# To bump it: take the `docker pull node@sha256:...` line at the top of that file's latest version (or
# run `docker buildx imagetools inspect node:24-bookworm-slim`), note the ENV NODE_VERSION it lists,
# replace the digest below, and set the same version in scripts/ci-node.sh so CI tests what ships.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df

# Stage 1: compile TypeScript with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the build needs only tsc; no dependency's install script runs.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Stage 2: production dependencies only, in a clean stage so nothing of the build leaks in.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Stage 3: the runtime.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# `image-admission manifests` reads the base webhook configurations from here.
COPY manifests/base ./manifests/base
# 65532: a numeric non-root user, so the kubelet can verify runAsNonRoot. OpenShift's restricted SCC
# replaces it with a UID from the namespace's range; the files above are world-readable either way.
USER 65532:65532
EXPOSE 8443
# No HEALTHCHECK: Kubernetes probes /readyz and /healthz. Node runs as PID 1 and receives SIGTERM
# itself (no npm in between, which would not forward it), so shutdown is graceful.
CMD ["node", "dist/cli/main.js", "serve"]
