/** Helpers for the simulator tests: SSE reading with eventsource-parser, metrics scraping. */
import { connect } from "node:net";
import { createParser } from "eventsource-parser";

/** The `data:` payloads of an SSE body, and the error if the body broke off. */
export async function readSse(res: Response): Promise<{ data: string[]; error: unknown }> {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { data, error: null };
      parser.feed(value);
    }
  } catch (error) {
    return { data, error };
  }
}

/** Parses JSON to `unknown`; assertions then check its shape. */
export function json(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** POST JSON, optionally with a bearer key. */
export function post(url: string, body: unknown, o: { key?: string; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(o.key === undefined ? {} : { authorization: `Bearer ${o.key}` }) },
    body: JSON.stringify(body),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
}

/** Values of one metric from Prometheus text, keyed by the label string. */
export function metricSamples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([^\s{]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m !== null && m[1] === name) out.set(m[2] ?? "", Number(m[3]));
  }
  return out;
}

/** The single sample of a metric without extra labels beyond engine/model_name. */
export async function scrape(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const samples = [...metricSamples(text, name).values()];
  if (samples.length !== 1) throw new Error(`expected one sample of ${name}, got ${samples.length}`);
  return samples[0]!;
}

/** Resolves with the error code of a fresh TCP connection attempt ("OK" if it connects). */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("OK");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "ERROR"));
  });
}

/** Polls `check` until it returns true; fails the test only via the test timeout. */
export async function eventually(check: () => Promise<boolean>, pauseMs = 20): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, pauseMs));
}
