#!/usr/bin/env bash
# Launch lmsys/vicuna-13b-v1.5 on vLLM the way the Altiplano gateway expects it:
#   - served as "vicuna-13b-v1.5" (the id in the gateway's MODELS var, wrangler.toml)
#   - a 4096-token context window (Vicuna v1.5's; the gateway truncates prompts to fit it)
#   - --api-key: the gateway presents it (its BACKEND_API_KEY secret); /health and /metrics stay open
#   - prefix caching on: the gateway's conversation affinity sends every turn of a
#     conversation to the worker that already holds its KV prefix
#   - --shutdown-timeout: on SIGTERM, in-flight requests get this long to finish (vLLM 0.18 or
#     later; the version is pinned where vLLM is installed: VLLM_VERSION in skypilot.yaml, the
#     image tag in k8s.yaml — this script refuses an older one)
#
# Environment: VLLM_API_KEY (required), VLLM_PORT (default 8000),
# VLLM_SHUTDOWN_TIMEOUT_S (default 30), VLLM_GPU_MEMORY_UTILIZATION (default 0.90).
# The agent (gpu-backend/agent) runs beside it and polls http://127.0.0.1:$VLLM_PORT.
set -euo pipefail

: "${VLLM_API_KEY:?set VLLM_API_KEY to the value of the gateway secret BACKEND_API_KEY}"
VLLM_PORT="${VLLM_PORT:-8000}"
VLLM_SHUTDOWN_TIMEOUT_S="${VLLM_SHUTDOWN_TIMEOUT_S:-30}"
VLLM_GPU_MEMORY_UTILIZATION="${VLLM_GPU_MEMORY_UTILIZATION:-0.90}"

# --shutdown-timeout does not exist before vLLM 0.18: fail here with a reason, not with an argparse error.
VLLM_INSTALLED="$(python3 -c 'from importlib.metadata import version; print(version("vllm"))' 2>/dev/null || echo none)"
if ! python3 -c 'import sys; v = sys.argv[1].split("."); sys.exit(0 if (int(v[0]), int(v[1])) >= (0, 18) else 1)' "${VLLM_INSTALLED}" 2>/dev/null; then
  echo "launch-vllm.sh: vLLM ${VLLM_INSTALLED} found; --shutdown-timeout needs vLLM 0.18 or later (install the pinned version)" >&2
  exit 1
fi

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
