# The agent sidecar image: Node 20 with the repository's agent and wire types.
# Build from the repository root:  docker build -f gpu-backend/deploy/agent.Dockerfile -t altiplano-agent .
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY wire ./wire
COPY gpu-backend/agent ./gpu-backend/agent
USER node
ENTRYPOINT ["npx", "tsx", "gpu-backend/agent/main.ts"]
