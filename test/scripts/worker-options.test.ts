/**
 * `npm run worker`'s options by table: its own flags and environment, the simulator's flags passed
 * through untouched, and every mistake named.
 */
import { describe, expect, it } from "vitest";
import { parseWorkerOptions, WorkerOptionsError } from "../../gpu-backend/worker/options.js";
import { simFlags, workerArgs } from "../../scripts/worker-process.js";

const BASE = ["--gateway", "http://127.0.0.1:8787/", "--pool-token", "pool-x"];

describe("parseWorkerOptions", () => {
  it.each([
    { argv: [...BASE], env: {}, expected: { gateway: "http://127.0.0.1:8787", poolToken: "pool-x", heartbeatMs: 1000, stopWithStdin: false, simArgs: [] } },
    { argv: ["--gateway=http://gw:1"], env: { POOL_TOKEN: "from-env" }, expected: { gateway: "http://gw:1", poolToken: "from-env" } },
    { argv: ["--pool-token", "flag"], env: { POOL_TOKEN: "env", ALTIPLANO_URL: "https://gw.example" }, expected: { gateway: "https://gw.example", poolToken: "flag" } },
    { argv: [...BASE, "--model", "vicuna-7b-v1.5", "--id", "box-1"], env: {}, expected: { model: "vicuna-7b-v1.5", id: "box-1", simArgs: [] } },
    {
      argv: [...BASE, "--reply", "echo", "--fast", "--itl-ms=50", "--seed", "3"],
      env: {},
      expected: { simArgs: ["--reply", "echo", "--fast", "--itl-ms=50", "--seed", "3"] },
    },
    { argv: [...BASE, "--vllm-url", "http://127.0.0.1:8000", "--public-url", "https://gpu-1.example"], env: {}, expected: { vllmUrl: "http://127.0.0.1:8000", publicUrl: "https://gpu-1.example" } },
    { argv: [...BASE, "--stop-with-stdin", "--heartbeat-ms", "250"], env: {}, expected: { stopWithStdin: true, heartbeatMs: 250 } },
  ])("$argv", ({ argv, env, expected }) => {
    expect(parseWorkerOptions(argv, env)).toMatchObject(expected);
  });

  it.each([
    { argv: [], error: "--gateway / ALTIPLANO_URL: required" },
    { argv: ["--gateway", "http://gw"], error: "--pool-token / POOL_TOKEN: required" },
    { argv: ["--gateway", "ftp://gw", "--pool-token", "t"], error: "--gateway / ALTIPLANO_URL: must be an http(s) URL" },
    { argv: [...BASE, "--id", "no spaces"], error: "--id / AGENT_WORKER_ID: letters, digits" },
    { argv: [...BASE, "--heartbeat-ms", "10"], error: "--heartbeat-ms" },
    { argv: [...BASE, "--id"], error: "option --id needs a value" },
    { argv: [...BASE, "stray"], error: 'unexpected argument "stray"' },
    { argv: [...BASE, "--vllm-url", "http://127.0.0.1:8000", "--reply", "echo"], error: "--reply is a simulator flag; with --vllm-url there is no simulator" },
  ])("refuses $argv", ({ argv, error }) => {
    expect(() => parseWorkerOptions(argv, {})).toThrow(WorkerOptionsError);
    expect(() => parseWorkerOptions(argv, {})).toThrow(error);
  });

  it("--help wins over everything", () => {
    expect(parseWorkerOptions(["--bogus", "--help"], {})).toBe("help");
  });
});

describe("the supervisor's command line for a worker", () => {
  it("names gateway, id, model and beat, passes simulator settings as flags, and never the pool token", () => {
    const args = workerArgs({
      gatewayUrl: "http://127.0.0.1:8787",
      id: "sim-2",
      model: "vicuna-7b-v1.5",
      heartbeatIntervalMs: 500,
      sim: { model: "ignored-here", reply: "echo", fast: true, itlMs: 20 },
    });
    expect(args).toEqual([
      "--gateway", "http://127.0.0.1:8787", "--id", "sim-2", "--model", "vicuna-7b-v1.5", "--heartbeat-ms", "500", "--stop-with-stdin",
      "--reply=echo", "--fast=true", "--itl-ms=20",
    ]);
    const parsed = parseWorkerOptions(args, { POOL_TOKEN: "t" });
    expect(parsed).toMatchObject({ id: "sim-2", model: "vicuna-7b-v1.5", heartbeatMs: 500, simArgs: ["--reply=echo", "--fast=true", "--itl-ms=20"] });
    expect(simFlags({ seed: undefined, maxNumSeqs: 8 })).toEqual(["--max-num-seqs=8"]);
  });
});
