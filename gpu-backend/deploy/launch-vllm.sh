#!/usr/bin/env bash
# Launch lmsys/vicuna-13b-v1.5 on vLLM the way the Altiplano gateway expects it:
#   - served as "vicuna-13b-v1.5" (the id in the gateway's MODELS var, wrangler.toml)
#   - a 4096-token context window (Vicuna v1.5's; the gateway truncates prompts to fit it)
#   - --api-key: the gateway presents it (its BACKEND_API_KEY secret); /health and /metrics stay open
#   - prefix caching on: the gateway's conversation affinity sends every turn of a
#     conversation to the worker that already holds its KV prefix
#   - --shutdown-timeout: on SIGTERM, in-flight requests get this long to finish
#
# Environment: VLLM_API_KEY (required), VLLM_PORT (default 8000),
# VLLM_SHUTDOWN_TIMEOUT_S (default 30), VLLM_GPU_MEMORY_UTILIZATION (default 0.90).
# The agent (gpu-backend/agent) runs beside it and polls http://127.0.0.1:$VLLM_PORT.
set -euo pipefail

: "${VLLM_API_KEY:?set VLLM_API_KEY (the gateway's BACKEND_API_KEY)}"
VLLM_PORT="${VLLM_PORT:-8000}"
VLLM_SHUTDOWN_TIMEOUT_S="${VLLM_SHUTDOWN_TIMEOUT_S:-30}"
VLLM_GPU_MEMORY_UTILIZATION="${VLLM_GPU_MEMORY_UTILIZATION:-0.90}"

exec vllm serve lmsys/vicuna-13b-v1.5 \
  --served-model-name vicuna-13b-v1.5 \
  --host 0.0.0.0 \
  --port "${VLLM_PORT}" \
  --api-key "${VLLM_API_KEY}" \
  --max-model-len 4096 \
  --enable-prefix-caching \
  --shutdown-timeout "${VLLM_SHUTDOWN_TIMEOUT_S}" \
  --dtype float16 \
  --gpu-memory-utilization "${VLLM_GPU_MEMORY_UTILIZATION}"
