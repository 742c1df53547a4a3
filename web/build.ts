/**
 * Builds the web app into web/dist: `index.html` (the chat page), `share.html` (a shared
 * conversation, read-only), `arena.html` (two anonymous models side by side, and the vote) and
 * `leaderboard.html` (public) and `dashboard.html` (operators: the GPU pool live, traffic charts,
 * usage), each loading its own hashed script and stylesheet from `/assets/`.
 * The Worker serves these files (workers/web/pages.ts) with a strict CSP, so the HTML holds no
 * inline script or style. Deterministic: the same sources give the same bytes and names.
 *
 *   npx tsx web/build.ts          builds, then prints each page's gzipped JavaScript size
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT_DIR = path.join(WEB_DIR, "dist");

/** The pages: their entry script, the HTML file they become and its title. */
const PAGES = {
  chat: { entry: "src/chat/main.tsx", html: "index.html", title: "Altiplano chat" },
  share: { entry: "src/share/main.tsx", html: "share.html", title: "Shared conversation · Altiplano" },
  arena: { entry: "src/arena/main.tsx", html: "arena.html", title: "Arena · Altiplano" },
  leaderboard: { entry: "src/leaderboard/main.tsx", html: "leaderboard.html", title: "Leaderboard · Altiplano" },
  dashboard: { entry: "src/dashboard/main.tsx", html: "dashboard.html", title: "Dashboard · Altiplano" },
} as const;
export type PageName = keyof typeof PAGES;

export interface BuildResult {
  /** Every file written, relative to the output directory, sorted. */
  files: string[];
  /** Each page's JavaScript, gzipped (level 9), in bytes. */
  jsGzipBytes: Record<PageName, number>;
}

function pageHtml(options: { title: string; script: string; stylesheet: string | null }): string {
  const stylesheet = options.stylesheet === null ? "" : `\n<link rel="stylesheet" href="/${options.stylesheet}">`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${options.title}</title>
<link rel="icon" href="data:,">${stylesheet}
<script type="module" src="/${options.script}"></script>
</head>
<body>
<div id="app"></div>
<noscript><p>This page needs JavaScript.</p></noscript>
</body>
</html>
`;
}

/**
 * Writes a file by renaming a finished temporary one over it, so a server reading the directory
 * (or a second build running at once, as parallel test files may) never sees half a file.
 */
async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

/** Removes files under `dir` not in `keep` (relative paths): the hashed files of earlier builds. */
async function removeStale(dir: string, keep: ReadonlySet<string>): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    if (!keep.has(relative) && !relative.endsWith(".tmp")) await rm(path.join(dir, relative), { force: true });
  }
}

/** Builds the pages into `outDir` (default web/dist); files of earlier builds are removed. */
export async function buildWeb(options: { outDir?: string } = {}): Promise<BuildResult> {
  const outDir = path.resolve(options.outDir ?? DEFAULT_OUT_DIR);

  const names = Object.keys(PAGES) as PageName[];
  const result = await esbuild.build({
    absWorkingDir: WEB_DIR,
    entryPoints: Object.fromEntries(names.map((name) => [name, PAGES[name].entry])),
    outdir: outDir,
    entryNames: "assets/[name]-[hash]",
    assetNames: "assets/[name]-[hash]",
    bundle: true,
    format: "esm",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    platform: "browser",
    minify: true,
    sourcemap: false,
    jsx: "automatic",
    jsxImportSource: "preact",
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "eof",
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const contents = new Map(result.outputFiles.map((file) => [path.resolve(file.path), file.contents]));

  const files: string[] = [];
  const jsGzipBytes = {} as Record<PageName, number>;
  for (const [outPath, output] of Object.entries(result.metafile.outputs)) {
    const relative = path.relative(outDir, path.resolve(WEB_DIR, outPath)).split(path.sep).join("/");
    files.push(relative);
    const bytes = contents.get(path.resolve(WEB_DIR, outPath));
    if (bytes === undefined) throw new Error(`web build: esbuild named ${outPath} but did not produce it`);
    await writeAtomically(path.join(outDir, relative), bytes);
    if (output.entryPoint === undefined) continue;
    const name = names.find((n) => path.resolve(WEB_DIR, PAGES[n].entry) === path.resolve(WEB_DIR, output.entryPoint!));
    if (name === undefined) continue;
    jsGzipBytes[name] = gzipSync(bytes, { level: 9 }).length;
    const stylesheet = output.cssBundle === undefined ? null : path.relative(outDir, path.resolve(WEB_DIR, output.cssBundle)).split(path.sep).join("/");
    await writeAtomically(path.join(outDir, PAGES[name].html), pageHtml({ title: PAGES[name].title, script: relative, stylesheet }));
    files.push(PAGES[name].html);
  }
  for (const name of names) if (jsGzipBytes[name] === undefined) throw new Error(`web build: no script came out for the ${name} page`);
  await removeStale(outDir, new Set(files));
  return { files: files.sort(), jsGzipBytes };
}

const runDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (runDirectly) {
  const started = performance.now();
  const { files, jsGzipBytes } = await buildWeb();
  const ms = Math.round(performance.now() - started);
  console.log(`web: built ${files.length} files into ${path.relative(process.cwd(), DEFAULT_OUT_DIR) || "."} in ${ms} ms`);
  for (const [name, bytes] of Object.entries(jsGzipBytes)) console.log(`  ${name} page JavaScript: ${(bytes / 1024).toFixed(1)} KB gzipped`);
}
