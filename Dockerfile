# syntax=docker/dockerfile:1
# The webhook's container image. Built on Node 22 LTS (the code also runs on Node 20, which CI uses).
# The Deployment relies on: USER numeric and non-root (runAsNonRoot is checked against it), /bin/sleep
# (its preStop hook), nothing written outside /tmp (readOnlyRootFilesystem).
ARG NODE_IMAGE=node:22-bookworm-slim

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
