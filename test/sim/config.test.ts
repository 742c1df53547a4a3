import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { envName, flagName, parseSimConfig, SimConfigError, SimConfigSchema, simHelpText } from "../../gpu-backend/sim/config.js";

describe("parseSimConfig", () => {
  it("defaults", () => {
    expect(parseSimConfig([], {})).toMatchObject({
      host: "127.0.0.1",
      port: 0,
      model: "vicuna-13b-v1.5",
      maxModelLen: 4096,
      reply: "lorem",
      replyLength: "sharegpt",
      seeding: "request",
      template: "vicuna_v1.1",
      fast: false,
      maxNumSeqs: 256,
      cacheBlocks: 4096,
    });
  });

  it.each([
    { argv: ["--port", "8001"], env: {}, want: { port: 8001 } },
    { argv: ["--port=8002"], env: { SIM_PORT: "9000" }, want: { port: 8002 } },
    { argv: [], env: { SIM_PORT: "9000", SIM_FAST: "true" }, want: { port: 9000, fast: true } },
    { argv: ["--fast"], env: {}, want: { fast: true } },
    { argv: ["--fast=false"], env: { SIM_FAST: "1" }, want: { fast: false } },
    { argv: ["--reply", "echo-prompt", "--api-key", "k"], env: {}, want: { reply: "echo-prompt", apiKey: "k" } },
    { argv: ["--itl-ms", "2.5", "--max-num-seqs", "1"], env: {}, want: { itlMs: 2.5, maxNumSeqs: 1 } },
    { argv: ["--failure", "close-after", "--failure-after-tokens", "3"], env: {}, want: { failure: "close-after", failureAfterTokens: 3 } },
    { argv: [], env: { SIM_WORKER_ID: "gpu-7", SIM_MAX_MODEL_LEN: "2048" }, want: { workerId: "gpu-7", maxModelLen: 2048 } },
    { argv: ["--reply-length", "max", "--seeding=prompt"], env: {}, want: { replyLength: "max", seeding: "prompt" } },
    { argv: ["--template", "chatml"], env: { SIM_REPLY_LENGTH: "max" }, want: { template: "chatml", replyLength: "max" } },
    { argv: [], env: { SIM_TEMPLATE: "llama-2-chat" }, want: { template: "llama-2-chat" } },
  ])("$argv $env", ({ argv, env, want }) => {
    expect(parseSimConfig(argv, env)).toMatchObject(want);
  });

  it.each([
    { argv: ["--port", "http"], message: /--port \/ SIM_PORT/ },
    { argv: ["--port", "70000"], message: /--port/ },
    { argv: ["--reply", "poetry"], message: /--reply \/ SIM_REPLY/ },
    { argv: ["--bogus", "1"], message: /unknown option --bogus/ },
    { argv: ["--model"], message: /--model needs a value/ },
    { argv: ["8001"], message: /unexpected argument "8001"/ },
    { argv: ["--failure", "meltdown"], message: /--failure/ },
    { argv: ["--reply-length", "long"], message: /--reply-length \/ SIM_REPLY_LENGTH/ },
    { argv: ["--template", "vicuna"], message: /--template \/ SIM_TEMPLATE/ },
  ])("fails fast on $argv", ({ argv, message }) => {
    expect(() => parseSimConfig(argv, {})).toThrow(SimConfigError);
    expect(() => parseSimConfig(argv, {})).toThrow(message);
  });

  it("--help lists every option with its flag and env variable", () => {
    const help = simHelpText();
    for (const key of Object.keys(SimConfigSchema.shape)) {
      expect(help).toContain(`--${flagName(key)}`);
      expect(help).toContain(envName(key));
    }
  });
});

const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

describe("CLI (main.ts)", () => {
  it("prints one listening line, serves, and exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "gpu-backend/sim/main.ts", "--port", "0", "--fast", "--worker-id", "cli-1"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve) => lines.once("line", resolve));
      const match = /^sim cli-1 listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
      expect(match).not.toBeNull();
      const res = await fetch(`${match![1]}/health`);
      expect(res.headers.get("x-worker-id")).toBe("cli-1");
      await res.arrayBuffer();
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("--help prints the options and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "gpu-backend/sim/main.ts", "--help"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    expect(out).toBe(simHelpText());
  });
});
