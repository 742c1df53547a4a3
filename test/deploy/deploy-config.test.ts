/**
 * The deployment files must agree with the code: ports, paths, model names, context length,
 * environment variable names and drain budgets. YAML is read with small regexes (no YAML package).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AGENT_ENV_VARS, AgentOptionsSchema, envName, resolveAgentConfig } from "../../gpu-backend/agent/config.js";

const ROOT = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

const launch = read("gpu-backend/deploy/launch-vllm.sh");
const k8s = read("gpu-backend/deploy/k8s.yaml");
const sky = read("gpu-backend/deploy/skypilot.yaml");
const wrangler = read("wrangler.toml");

const GatewayModels = z.array(z.object({ id: z.string(), contextLength: z.number() }));
const models = GatewayModels.parse(JSON.parse(/^MODELS = '(.*)'$/m.exec(wrangler)?.[1] ?? "null"));
const DEFAULT_SETTLE_MS = AgentOptionsSchema.shape.drainSettleMs.parse(undefined);

function one(pattern: RegExp, text: string, what: string): string {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`not found: ${what}`);
  return match[1];
}

/** `- name: X` followed by `value: Y` (or valueFrom) entries inside one container block. */
function containerEnv(block: string): Map<string, string | null> {
  const env = new Map<string, string | null>();
  for (const match of block.matchAll(/- name: (\S+)\n\s+(value: "?([^"\n]*)"?|valueFrom:)/g)) {
    env.set(match[1]!, match[3] ?? null);
  }
  return env;
}

/** The text of one container in k8s.yaml, from its `- name:` line to the next container. */
function container(name: string): string {
  const start = k8s.indexOf(`        - name: ${name}\n`);
  if (start === -1) throw new Error(`no container ${name}`);
  const next = k8s.indexOf("\n        - name: ", start + 1);
  return next === -1 ? k8s.slice(start) : k8s.slice(start, next + 1);
}

/** Top-level keys of a mapping section in skypilot.yaml (`envs:`, `secrets:`). */
function skySection(section: string): Map<string, string> {
  const body = one(new RegExp(`^${section}:\\n((?:  .*\\n|\\s*\\n)+)`, "m"), sky, `${section} section`);
  const entries = new Map<string, string>();
  for (const match of body.matchAll(/^  ([A-Z0-9_]+): ?(.*)$/gm)) entries.set(match[1]!, match[2]!.replace(/^"|"$/g, ""));
  return entries;
}

describe("the model and its settings agree with the gateway's MODELS", () => {
  const served = one(/--served-model-name (\S+)/, launch, "served model name");
  const model = models.find((m) => m.id === served);

  it("launch-vllm.sh serves Vicuna under a model id the gateway knows, with its context window", () => {
    expect(launch).toMatch(/vllm serve lmsys\/vicuna-13b-v1\.5 /);
    expect(model).toBeDefined();
    expect(Number(one(/--max-model-len (\d+)/, launch, "max model len"))).toBe(model?.contextLength);
    expect(launch).toMatch(/--api-key "\$\{VLLM_API_KEY\}"/);
    expect(launch).toMatch(/--enable-prefix-caching/);
    expect(launch).toMatch(/--shutdown-timeout "\$\{VLLM_SHUTDOWN_TIMEOUT_S\}"/);
  });

  it("k8s.yaml runs the same model, name, context and flags", () => {
    const vllm = container("vllm");
    expect(vllm).toMatch(/command: \["vllm", "serve", "lmsys\/vicuna-13b-v1\.5"\]/);
    expect(one(/--served-model-name=(\S+)/, vllm, "served name")).toBe(served);
    expect(Number(one(/--max-model-len=(\d+)/, vllm, "max model len"))).toBe(model?.contextLength);
    expect(vllm).toMatch(/--enable-prefix-caching/);
    expect(vllm).toMatch(/--api-key=\$\(VLLM_API_KEY\)/);
  });
});

describe("ports and paths", () => {
  const launchPort = Number(one(/VLLM_PORT="\$\{VLLM_PORT:-(\d+)\}"/, launch, "launch port"));
  const agentDefaultPort = Number(new URL(AgentOptionsSchema.shape.vllmUrl.parse(undefined)).port);

  it("the agent's default vLLM URL is the launch script's port", () => {
    expect(agentDefaultPort).toBe(launchPort);
  });

  it("k8s: vLLM listens where the probes and the agent look", () => {
    const vllm = container("vllm");
    const port = Number(one(/--port=(\d+)/, vllm, "--port"));
    expect(port).toBe(launchPort);
    expect(Number(one(/containerPort: (\d+)/, vllm, "containerPort"))).toBe(port);
    const readiness = one(/readinessProbe:\n((?:\s{12}.*\n)+)/, vllm, "readiness probe");
    expect(readiness).toMatch(/path: \/health\n/);
    expect(Number(one(/port: (\d+)/, readiness, "probe port"))).toBe(port);
    const agentEnv = containerEnv(container("agent"));
    expect(new URL(agentEnv.get("AGENT_VLLM_URL") ?? "").port).toBe(String(port));
  });

  it("skypilot: the opened port is vLLM's, and the run script starts files that exist", () => {
    const envs = skySection("envs");
    expect(Number(one(/^\s+ports: (\d+)$/m, sky, "ports"))).toBe(Number(envs.get("VLLM_PORT")));
    expect(new URL(envs.get("AGENT_VLLM_URL") ?? "").port).toBe(envs.get("VLLM_PORT"));
    for (const path of sky.matchAll(/(gpu-backend\/\S+\.(?:sh|ts))/g)) expect(existsSync(join(ROOT, path[1]!))).toBe(true);
    expect(sky).toMatch(/use_spot: true/);
    expect(sky).toMatch(/job_recovery:/);
  });
});

describe("environment variables are ones the agent reads", () => {
  it("k8s agent container: every variable but the pod name is an agent variable, secrets from the Secret", () => {
    const env = containerEnv(container("agent"));
    const names = [...env.keys()].filter((name) => name !== "POD_NAME");
    for (const name of names) expect(AGENT_ENV_VARS).toContain(name);
    expect(env.get(envName("poolToken"))).toBeNull(); // valueFrom, not a literal
    expect(env.get(envName("vllmApiKey"))).toBeNull();
    expect(k8s).toMatch(/name: altiplano-gpu\n\s+key: pool-token/);
  });

  it("k8s agent env parses as a valid agent config", () => {
    const env = containerEnv(container("agent"));
    const resolved = Object.fromEntries(
      [...env].map(([name, value]) => [name, (value ?? "secret").replace("$(POD_NAME)", "altiplano-vicuna-abc12")]),
    );
    const config = resolveAgentConfig(
      Object.fromEntries(
        Object.keys(AgentOptionsSchema.shape)
          .filter((key) => resolved[envName(key)] !== undefined)
          .map((key) => [key, resolved[envName(key)]]),
      ),
    );
    expect(config.workerId).toBe("altiplano-vicuna-abc12");
    expect(config.publicUrl).toBe("https://altiplano-vicuna-abc12.gpu.example.com");
  });

  it("skypilot: envs are agent or launch-script variables; both secrets are declared", () => {
    const launchVars = new Set([...launch.matchAll(/\$\{(VLLM_[A-Z_]+)/g)].map((m) => m[1]!));
    for (const name of skySection("envs").keys()) {
      expect(AGENT_ENV_VARS.includes(name) || launchVars.has(name)).toBe(true);
    }
    expect([...skySection("secrets").keys()].sort()).toEqual(["POOL_TOKEN", "VLLM_API_KEY"]);
    expect(AGENT_ENV_VARS).toEqual(expect.arrayContaining(["POOL_TOKEN", "VLLM_API_KEY"]));
  });
});

describe("drain budgets nest", () => {
  it("k8s: settle + drain deadline + vLLM shutdown fit the grace period; preStop waits for the agent's file", () => {
    const agentEnv = containerEnv(container("agent"));
    const drainS = Number(agentEnv.get("AGENT_DRAIN_DEADLINE_MS")) / 1000;
    const shutdownS = Number(one(/--shutdown-timeout=(\d+)/, container("vllm"), "shutdown timeout"));
    const graceS = Number(one(/terminationGracePeriodSeconds: (\d+)/, k8s, "grace period"));
    expect(DEFAULT_SETTLE_MS / 1000 + drainS + shutdownS).toBeLessThan(graceS);

    const drainedFile = agentEnv.get("AGENT_DRAINED_FILE") ?? "";
    const preStop = one(/preStop:\n((?:\s{14}.*\n)+)/, container("vllm"), "preStop");
    expect(preStop).toContain(`[ ! -f ${drainedFile} ]`);
    const preStopLimitS = Number(one(/\$i -lt (\d+)/, preStop, "preStop limit"));
    expect(preStopLimitS).toBeGreaterThanOrEqual(DEFAULT_SETTLE_MS / 1000 + drainS);
    expect(preStopLimitS + shutdownS).toBeLessThan(graceS);
    // The file is on a volume both containers mount at the same path.
    const dir = drainedFile.slice(0, drainedFile.lastIndexOf("/"));
    expect(container("vllm")).toContain(`mountPath: ${dir}`);
    expect(container("agent")).toContain(`mountPath: ${dir}`);
  });

  it("skypilot: the drain fits a spot preemption notice (GCP gives about 30 s)", () => {
    const envs = skySection("envs");
    expect(DEFAULT_SETTLE_MS + Number(envs.get("AGENT_DRAIN_DEADLINE_MS"))).toBeLessThanOrEqual(30_000);
  });
});
