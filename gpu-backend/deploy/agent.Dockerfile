# The agent sidecar image. Build from the repository root:
#   docker build -f gpu-backend/deploy/agent.Dockerfile -t altiplano-agent .
#
# Two stages: the first installs the repository's dependencies (esbuild is a dev dependency) only to
# bundle the agent into one file; the image itself is distroless Node with that one file — no
# node_modules, no npm, no shell — and runs as a non-root user.
FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY wire ./wire
COPY gpu-backend/agent ./gpu-backend/agent
COPY gpu-backend/deploy/build-agent.sh ./gpu-backend/deploy/build-agent.sh
RUN bash gpu-backend/deploy/build-agent.sh /out/agent.mjs

FROM gcr.io/distroless/nodejs22-debian12:nonroot
WORKDIR /app
COPY --from=build /out/agent.mjs /app/agent.mjs
ENTRYPOINT ["/nodejs/bin/node", "/app/agent.mjs"]
