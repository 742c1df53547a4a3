#!/usr/bin/env bash
# Bundles the agent (gpu-backend/agent/main.ts with the wire types and zod, the only package it
# imports) into one ES module that runs on plain Node 20+ with no node_modules beside it. Used by
# agent.Dockerfile and skypilot.yaml; needs the repository's dev dependencies (esbuild) to build.
#
#   bash gpu-backend/deploy/build-agent.sh /tmp/agent.mjs && node /tmp/agent.mjs --help
set -euo pipefail
OUT="${1:?usage: build-agent.sh OUTFILE}"
cd "$(dirname "$0")/../.."
exec npx --no-install esbuild gpu-backend/agent/main.ts \
  --bundle --platform=node --target=node20 --format=esm --minify --legal-comments=none \
  --log-level=warning --outfile="${OUT}"
