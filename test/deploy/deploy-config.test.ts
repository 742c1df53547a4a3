/**
 * The deployment files must be complete and agree with the code: each YAML file is parsed, and
 * each path must reach the workers (a Cloudflare Tunnel sidecar, no plain-HTTP public port), give
 * workers stable ids and URLs (a StatefulSet), pin vLLM to a version with --shutdown-timeout, and
 * agree on ports, model, context length, agent variables and drain budgets. The scripts are run:
 * launch-vllm.sh against a stand-in `vllm` executable, build-agent.sh into a bundle that must run
 * with no node_modules.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { z } from "zod";
import { AGENT_ENV_VARS, AgentOptionsSchema, envName, resolveAgentConfig } from "../../gpu-backend/agent/config.js";

const ROOT = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

const launch = read("gpu-backend/deploy/launch-vllm.sh");
const dockerfile = read("gpu-backend/deploy/agent.Dockerfile");
const deployReadme = read("gpu-backend/deploy/README.md");
const wrangler = read("wrangler.toml");

const GatewayModels = z.array(z.object({ id: z.string(), contextLength: z.number() }));
const models = GatewayModels.parse(JSON.parse(/^MODELS = '(.*)'$/m.exec(wrangler)?.[1] ?? "null"));
const DEFAULT_SETTLE_MS = AgentOptionsSchema.shape.drainSettleMs.parse(undefined);
/** vLLM gained --shutdown-timeout in 0.18. */
const MIN_VLLM: readonly [number, number] = [0, 18];

// ---- Kubernetes: the parts of the schema the tests read; anything else passes through. ----

const EnvVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      secretKeyRef: z.object({ name: z.string(), key: z.string() }).optional(),
      fieldRef: z.object({ fieldPath: z.string() }).optional(),
    })
    .optional(),
});
const HttpProbe = z.object({ httpGet: z.object({ path: z.string(), port: z.number() }) }).passthrough();
const Container = z
  .object({
    name: z.string(),
    image: z.string(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).default([]),
    env: z.array(EnvVar).default([]),
    ports: z.array(z.object({ containerPort: z.number(), hostPort: z.number().optional() }).passthrough()).default([]),
    volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() }).passthrough()).default([]),
    restartPolicy: z.string().optional(),
    startupProbe: HttpProbe.optional(),
    readinessProbe: HttpProbe.optional(),
    livenessProbe: HttpProbe.optional(),
    lifecycle: z.object({ preStop: z.object({ exec: z.object({ command: z.array(z.string()) }) }) }).optional(),
  })
  .passthrough();
const StatefulSet = z.object({
  kind: z.literal("StatefulSet"),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    serviceName: z.string(),
    replicas: z.number(),
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.object({
      metadata: z.object({ labels: z.record(z.string(), z.string()) }),
      spec: z
        .object({
          terminationGracePeriodSeconds: z.number(),
          hostNetwork: z.boolean().optional(),
          volumes: z.array(z.object({ name: z.string(), secret: z.object({ secretName: z.string() }).optional() }).passthrough()),
          initContainers: z.array(Container).default([]),
          containers: z.array(Container),
        })
        .passthrough(),
    }),
  }),
});
const Service = z.object({
  kind: z.literal("Service"),
  metadata: z.object({ name: z.string() }),
  spec: z.object({ clusterIP: z.string().optional(), type: z.string().optional(), ports: z.array(z.unknown()).optional() }).passthrough(),
});

const k8sDocs = parseAllDocuments(read("gpu-backend/deploy/k8s.yaml")).map((doc) => {
  expect(doc.errors).toEqual([]);
  return z.object({ kind: z.string() }).passthrough().parse(doc.toJS());
});
const statefulSet = StatefulSet.parse(k8sDocs.find((doc) => doc.kind === "StatefulSet"));
const podSpec = statefulSet.spec.template.spec;

function container(name: string): z.infer<typeof Container> {
  const found = [...podSpec.containers, ...podSpec.initContainers].find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in k8s.yaml`);
  return found;
}
const envOf = (c: z.infer<typeof Container>) => new Map(c.env.map((e) => [e.name, e]));
/** `--flag=value` from a container's args. */
function flag(c: z.infer<typeof Container>, name: string): string | undefined {
  return c.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

// ---- SkyPilot ----

const Sky = z.object({
  resources: z
    .object({ use_spot: z.boolean(), job_recovery: z.object({ strategy: z.string() }).passthrough(), ports: z.unknown().optional() })
    .passthrough(),
  envs: z.record(z.string(), z.union([z.string(), z.null()])),
  secrets: z.record(z.string(), z.null()),
  setup: z.string(),
  run: z.string(),
});
const sky = Sky.parse(parse(read("gpu-backend/deploy/skypilot.yaml")));

function versionAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const [a, b] = version.split(".").map(Number);
  return a! > major || (a === major && b! >= minor);
}

function one(pattern: RegExp, text: string, what: string): string {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`not found: ${what}`);
  return match[1];
}

const scratch = mkdtempSync(join(tmpdir(), "altiplano-deploy-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

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
    expect(vllm.command).toEqual(["vllm", "serve", "lmsys/vicuna-13b-v1.5"]);
    expect(flag(vllm, "served-model-name")).toBe(served);
    expect(Number(flag(vllm, "max-model-len"))).toBe(model?.contextLength);
    expect(vllm.args).toContain("--enable-prefix-caching");
    expect(flag(vllm, "api-key")).toBe("$(VLLM_API_KEY)");
  });
});

describe("vLLM is pinned to one version with --shutdown-timeout", () => {
  const imageTag = one(/^vllm\/vllm-openai:v(\d+\.\d+\.\d+)$/, container("vllm").image, "a vllm/vllm-openai:vX.Y.Z image");
  const skyVersion = sky.envs.VLLM_VERSION ?? "";

  it("k8s uses a versioned image (never latest) and SkyPilot installs the same version with pip", () => {
    expect(skyVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(imageTag).toBe(skyVersion);
    expect(sky.setup).toContain('pip install "vllm==${VLLM_VERSION}"');
    expect(sky.setup).not.toMatch(/pip install[^\n]*--upgrade vllm/);
    expect(versionAtLeast(skyVersion, MIN_VLLM)).toBe(true);
  });

  it("launch-vllm.sh refuses a vLLM older than 0.18 with a reason, and starts a new enough one with the flags", () => {
    // A stand-in `vllm` executable that prints its arguments, and vLLM's package metadata at a chosen version.
    const bin = join(scratch, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "vllm"), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(bin, "vllm"), 0o755);
    const run = (version: string | null) => {
      const site = join(scratch, `site-${version ?? "none"}`);
      if (version !== null) {
        mkdirSync(join(site, `vllm-${version}.dist-info`), { recursive: true });
        writeFileSync(join(site, `vllm-${version}.dist-info`, "METADATA"), `Metadata-Version: 2.1\nName: vllm\nVersion: ${version}\n`);
      }
      return spawnSync("bash", [join(ROOT, "gpu-backend/deploy/launch-vllm.sh")], {
        env: { PATH: `${bin}:${process.env.PATH}`, PYTHONPATH: site, VLLM_API_KEY: "k", VLLM_SHUTDOWN_TIMEOUT_S: "30" },
        encoding: "utf8",
      });
    };
    const old = run("0.17.1");
    expect(old.status).toBe(1);
    expect(old.stderr).toContain("vLLM 0.17.1 found; --shutdown-timeout needs vLLM 0.18 or later");
    expect(run(null).status).toBe(1);
    const pinned = run(skyVersion);
    expect(pinned.stderr).toBe("");
    expect(pinned.status).toBe(0);
    const args = pinned.stdout.trim().split("\n");
    expect(args.slice(0, 2)).toEqual(["serve", "lmsys/vicuna-13b-v1.5"]);
    expect(args).toEqual(expect.arrayContaining(["--shutdown-timeout", "30", "--api-key", "k", "--port", "8000", "--enable-prefix-caching"]));
  });
});

describe("Kubernetes: a StatefulSet whose pods each reach the gateway through their own tunnel", () => {
  it("is a StatefulSet (stable pod names) with its headless governing Service, and no Deployment", () => {
    expect(k8sDocs.map((doc) => doc.kind).sort()).toEqual(["Service", "StatefulSet"]);
    const service = Service.parse(k8sDocs.find((doc) => doc.kind === "Service"));
    expect(service.metadata.name).toBe(statefulSet.spec.serviceName);
    expect(service.spec.clusterIP).toBe("None");
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(statefulSet.spec.selector.matchLabels);
  });

  it("publishes no plain-HTTP port: no LoadBalancer / NodePort Service, no Ingress, no hostPort or hostNetwork, no Service ports", () => {
    for (const doc of k8sDocs) expect(doc.kind).not.toBe("Ingress");
    const service = Service.parse(k8sDocs.find((doc) => doc.kind === "Service"));
    expect(service.spec.type ?? "ClusterIP").toBe("ClusterIP");
    expect(service.spec.ports ?? []).toEqual([]);
    expect(podSpec.hostNetwork ?? false).toBe(false);
    for (const c of [...podSpec.containers, ...podSpec.initContainers]) {
      for (const port of c.ports) expect(port.hostPort).toBeUndefined();
    }
  });

  it("runs cloudflared as a native sidecar with a pinned image, this pod's tunnel token by pod name, and a readiness gate", () => {
    const cloudflared = container("cloudflared");
    expect(podSpec.initContainers.map((c) => c.name)).toContain("cloudflared");
    expect(cloudflared.restartPolicy).toBe("Always"); // outlives vllm and agent during a drain
    expect(cloudflared.image).toMatch(/^cloudflare\/cloudflared:\d{4}\.\d+\.\d+$/);
    const [year, month] = cloudflared.image.split(":")[1]!.split(".").map(Number);
    expect(year! * 100 + month!).toBeGreaterThanOrEqual(202504); // --token-file arrived in 2025.4.0
    expect(cloudflared.args.slice(0, 1)).toEqual(["tunnel"]);
    expect(cloudflared.args).toContain("run");
    expect(cloudflared.args).toContain("--no-autoupdate");
    const tokenFile = flag(cloudflared, "token-file") ?? "";
    expect(tokenFile).toMatch(/\/\$\(POD_NAME\)$/);
    expect(envOf(cloudflared).get("POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    const mount = cloudflared.volumeMounts.find((m) => tokenFile.startsWith(`${m.mountPath}/`));
    expect(podSpec.volumes.find((v) => v.name === mount?.name)?.secret?.secretName).toBe("altiplano-tunnels");
    const metricsPort = Number(flag(cloudflared, "metrics")?.split(":")[1]);
    expect(cloudflared.startupProbe?.httpGet).toEqual({ path: "/ready", port: metricsPort });
  });

  it("the agent's worker id is the stable pod name and its public URL the pod's tunnel hostname, over HTTPS", () => {
    const env = envOf(container("agent"));
    expect(env.get("POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(env.get("AGENT_WORKER_ID")?.value).toBe("$(POD_NAME)");
    const publicUrl = env.get("AGENT_PUBLIC_URL")?.value ?? "";
    expect(publicUrl).toMatch(/^https:\/\/\$\(POD_NAME\)\./);
    // The tunnel token is looked up under the same pod name, so URL and tunnel are one pair per pod.
    expect(flag(container("cloudflared"), "token-file")).toContain("$(POD_NAME)");
  });

  it("the agent image is pinned, not latest", () => {
    expect(container("agent").image).toMatch(/:\d+\.\d+\.\d+$/);
  });
});

describe("SkyPilot: the worker's tunnel follows it across spot recoveries", () => {
  it("opens no port on the VM", () => {
    expect(sky.resources.ports).toBeUndefined();
    expect(sky.resources.use_spot).toBe(true);
    expect(sky.resources.job_recovery.strategy).toBeTruthy();
  });

  it("installs a pinned cloudflared and runs the named tunnel from TUNNEL_TOKEN (environment, not argv) beside vLLM and the agent", () => {
    expect(sky.envs.CLOUDFLARED_VERSION).toMatch(/^\d{4}\.\d+\.\d+$/);
    expect(sky.setup).toContain("releases/download/${CLOUDFLARED_VERSION}/");
    expect(Object.keys(sky.secrets)).toContain("TUNNEL_TOKEN");
    const tunnelLine = sky.run.split("\n").find((line) => line.startsWith("cloudflared tunnel")) ?? "";
    expect(tunnelLine).toMatch(/ run &$/);
    expect(tunnelLine).not.toContain("--token");
    expect(tunnelLine).not.toContain("--url"); // a quick tunnel would change URL on every restart
    // All three processes are watched and stopped together.
    expect(sky.run).toMatch(/wait -n \$VLLM_PID \$AGENT_PID \$TUNNEL_PID/);
    expect(sky.run).toMatch(/trap 'kill -TERM \$AGENT_PID \$VLLM_PID \$TUNNEL_PID/);
  });

  it("the agent advertises an HTTPS URL (the tunnel hostname) given at launch", () => {
    expect(sky.envs).toHaveProperty("AGENT_PUBLIC_URL", null); // required at launch
    const example = one(/--env AGENT_PUBLIC_URL=(\S+)/, read("gpu-backend/deploy/skypilot.yaml"), "launch example");
    expect(example).toMatch(/^https:\/\//);
  });
});

describe("ports and paths", () => {
  const launchPort = Number(one(/VLLM_PORT="\$\{VLLM_PORT:-(\d+)\}"/, launch, "launch port"));

  it("the agent's default vLLM URL is the launch script's port", () => {
    expect(Number(new URL(AgentOptionsSchema.shape.vllmUrl.parse(undefined)).port)).toBe(launchPort);
  });

  it("k8s: vLLM listens where the probes and the agent look", () => {
    const vllm = container("vllm");
    const port = Number(flag(vllm, "port"));
    expect(port).toBe(launchPort);
    expect(vllm.ports.map((p) => p.containerPort)).toEqual([port]);
    expect(vllm.readinessProbe?.httpGet).toEqual({ path: "/health", port });
    expect(new URL(envOf(container("agent")).get("AGENT_VLLM_URL")?.value ?? "").port).toBe(String(port));
  });

  it("skypilot: the agent looks at vLLM's port, and the scripts it runs exist", () => {
    expect(new URL(sky.envs.AGENT_VLLM_URL ?? "").port).toBe(sky.envs.VLLM_PORT);
    for (const path of `${sky.setup}\n${sky.run}`.matchAll(/(gpu-backend\/\S+\.(?:sh|ts))/g)) expect(existsSync(join(ROOT, path[1]!))).toBe(true);
  });
});

describe("environment variables are ones the agent reads", () => {
  it("k8s agent container: every variable but the pod name is an agent variable, secrets from the Secret", () => {
    const env = envOf(container("agent"));
    for (const name of [...env.keys()].filter((n) => n !== "POD_NAME")) expect(AGENT_ENV_VARS).toContain(name);
    expect(env.get(envName("poolToken"))?.valueFrom?.secretKeyRef).toEqual({ name: "altiplano-gpu", key: "pool-token" });
    expect(env.get(envName("vllmApiKey"))?.valueFrom?.secretKeyRef).toEqual({ name: "altiplano-gpu", key: "vllm-api-key" });
  });

  it("k8s agent env parses as a valid agent config for pod altiplano-vicuna-0", () => {
    const podName = `${statefulSet.metadata.name}-0`;
    const resolved = new Map([...envOf(container("agent"))].map(([name, e]) => [name, (e.value ?? "secret").replace("$(POD_NAME)", podName)]));
    const config = resolveAgentConfig(
      Object.fromEntries(
        Object.keys(AgentOptionsSchema.shape)
          .filter((key) => resolved.has(envName(key)))
          .map((key) => [key, resolved.get(envName(key))]),
      ),
    );
    expect(config.workerId).toBe("altiplano-vicuna-0");
    expect(config.publicUrl).toBe("https://altiplano-vicuna-0.gpu.example.com");
  });

  it("skypilot: envs are agent, launch-script or install variables; the secrets are declared", () => {
    const launchVars = new Set([...launch.matchAll(/\$\{(VLLM_[A-Z_]+)/g)].map((m) => m[1]!));
    const installVars = new Set([...sky.setup.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]!));
    for (const name of Object.keys(sky.envs)) {
      expect(AGENT_ENV_VARS.includes(name) || launchVars.has(name) || installVars.has(name), name).toBe(true);
    }
    expect(Object.keys(sky.secrets).sort()).toEqual(["POOL_TOKEN", "TUNNEL_TOKEN", "VLLM_API_KEY"]);
  });
});

describe("drain budgets nest", () => {
  it("k8s: settle + drain deadline + vLLM shutdown fit the grace period; preStop waits for the agent's file", () => {
    const agentEnv = envOf(container("agent"));
    const drainS = Number(agentEnv.get("AGENT_DRAIN_DEADLINE_MS")?.value) / 1000;
    const shutdownS = Number(flag(container("vllm"), "shutdown-timeout"));
    const graceS = podSpec.terminationGracePeriodSeconds;
    expect(DEFAULT_SETTLE_MS / 1000 + drainS + shutdownS).toBeLessThan(graceS);

    const drainedFile = agentEnv.get("AGENT_DRAINED_FILE")?.value ?? "";
    const preStop = container("vllm").lifecycle?.preStop.exec.command.join(" ") ?? "";
    expect(preStop).toContain(`[ ! -f ${drainedFile} ]`);
    const preStopLimitS = Number(one(/\$i -lt (\d+)/, preStop, "preStop limit"));
    expect(preStopLimitS).toBeGreaterThanOrEqual(DEFAULT_SETTLE_MS / 1000 + drainS);
    expect(preStopLimitS + shutdownS).toBeLessThan(graceS);
    // The file is on a volume both containers mount at the same path.
    const dir = drainedFile.slice(0, drainedFile.lastIndexOf("/"));
    expect(container("vllm").volumeMounts.map((m) => m.mountPath)).toContain(dir);
    expect(container("agent").volumeMounts.map((m) => m.mountPath)).toContain(dir);
  });

  it("skypilot: the drain fits a spot preemption notice (GCP gives about 30 s)", () => {
    expect(DEFAULT_SETTLE_MS + Number(sky.envs.AGENT_DRAIN_DEADLINE_MS)).toBeLessThanOrEqual(30_000);
  });
});

describe("the agent image holds one bundled file, no node_modules", () => {
  it("the Dockerfile builds the bundle in a build stage and ships only it on a distroless Node", () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    expect(stages[0]).toContain("build-agent.sh /out/agent.mjs");
    const runtime = stages[1]!;
    expect(runtime).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot/);
    expect(runtime).not.toMatch(/npm|node_modules/);
    expect(runtime).toContain("COPY --from=build /out/agent.mjs /app/agent.mjs");
    // Every file the build stage copies exists.
    for (const m of stages[0]!.matchAll(/^COPY (\S+) /gm)) expect(existsSync(join(ROOT, m[1]!)), m[1]).toBe(true);
  });

  it("build-agent.sh bundles an agent that runs from a directory with no node_modules", () => {
    const dir = join(scratch, "image");
    mkdirSync(dir, { recursive: true });
    execFileSync("bash", [join(ROOT, "gpu-backend/deploy/build-agent.sh"), join(scratch, "agent.mjs")], { stdio: "pipe" });
    copyFileSync(join(scratch, "agent.mjs"), join(dir, "agent.mjs"));
    // The image's size beyond the Node base: this one file (measured at the time of writing: ~460 KB).
    expect(statSync(join(dir, "agent.mjs")).size).toBeLessThan(2_000_000);
    const help = spawnSync(process.execPath, [join(dir, "agent.mjs"), "--help"], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--quick-tunnel-metrics-url");
    const bad = spawnSync(process.execPath, [join(dir, "agent.mjs")], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("POOL_TOKEN");
  });
});

describe("the deploy README walks through every path", () => {
  it("names POOL_ALLOWED_URLS, both tunnel secrets and the pinned versions", () => {
    expect(deployReadme).toContain("POOL_ALLOWED_URLS");
    expect(deployReadme).toContain("altiplano-tunnels");
    expect(deployReadme).toContain("TUNNEL_TOKEN");
    expect(deployReadme).toContain(sky.envs.VLLM_VERSION ?? "?");
    expect(deployReadme).toContain("AGENT_QUICK_TUNNEL_METRICS_URL");
  });
});
