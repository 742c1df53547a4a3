/** HTTP reads of the local vLLM: /health, /metrics, /v1/models, /version. Each call has a timeout. */
import { z } from "zod";
import type { ServedModel, WorkerRuntime } from "../../wire/heartbeat.js";
import { readVllmMetrics, type VllmMetrics } from "./metrics-parser.js";
import { runtimeFromVersionReply } from "./runtime.js";

const ModelList = z.object({
  data: z.array(z.object({ id: z.string().min(1), max_model_len: z.number().int().positive().optional() })),
});

/** Used when /v1/models does not say (it always does on vLLM ≥ 0.4). */
export const FALLBACK_MAX_MODEL_LEN = 4096;

/** Reads one vLLM server. */
export class LocalVllm {
  constructor(
    private readonly options: { baseUrl: string; apiKey?: string; timeoutMs: number },
  ) {}

  /** Whether /health answers 200. Never throws. */
  async isHealthy(): Promise<boolean> {
    try {
      const res = await this.get("/health");
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** The load figures from /metrics; throws when vLLM cannot be read. */
  async metrics(): Promise<VllmMetrics> {
    const res = await this.get("/metrics");
    const text = await res.text();
    if (res.status !== 200) throw new Error(`vLLM /metrics answered ${res.status}`);
    return readVllmMetrics(text);
  }

  /** The served models with their context length; throws when vLLM cannot be read. */
  async models(): Promise<ServedModel[]> {
    const res = await this.get("/v1/models", true);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`vLLM /v1/models answered ${res.status}${res.status === 401 ? " (is VLLM_API_KEY set?)" : ""}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error("vLLM /v1/models is not JSON");
    }
    const parsed = ModelList.safeParse(json);
    if (!parsed.success) throw new Error("vLLM /v1/models has an unexpected shape");
    return parsed.data.data.slice(0, 16).map((model) => ({ id: model.id, maxModelLen: model.max_model_len ?? FALLBACK_MAX_MODEL_LEN }));
  }

  /** vLLM and its version, or the simulator (`GET /version`); throws when it cannot be read or is not recognised. */
  async runtime(): Promise<WorkerRuntime> {
    const res = await this.get("/version");
    const text = await res.text();
    if (res.status !== 200) throw new Error(`vLLM /version answered ${res.status}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error("vLLM /version is not JSON");
    }
    const runtime = runtimeFromVersionReply(json);
    if (runtime === null) throw new Error(`vLLM /version has an unexpected shape: ${text.slice(0, 100)}`);
    return runtime;
  }

  private get(path: string, withKey = false): Promise<Response> {
    const headers: Record<string, string> = {};
    if (withKey && this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    return fetch(`${this.options.baseUrl}${path}`, { headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
  }
}
