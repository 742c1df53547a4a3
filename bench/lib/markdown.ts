/** Markdown helpers for benchmark reports. */

export type Align = "left" | "right";

/** A column: header text, how to align it (numbers right), and how to render one row's cell. */
export interface Column<Row> {
  header: string;
  align?: Align;
  cell: (row: Row) => string | number;
}

/** A GitHub-flavoured Markdown table; pipes and newlines in cells are escaped. */
export function markdownTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const escape = (v: string | number): string => String(v).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const header = `| ${columns.map((c) => escape(c.header)).join(" | ")} |`;
  const rule = `| ${columns.map((c) => (c.align === "right" ? "---:" : "---")).join(" | ")} |`;
  const body = rows.map((row) => `| ${columns.map((c) => escape(c.cell(row))).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

/** A number with a fixed count of decimals, or "–" when not finite. */
export function fmt(value: number, decimals = 1): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : "–";
}

/** A 0..1 ratio as a percentage with one decimal. */
export function pct(ratio: number, decimals = 1): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(decimals)} %` : "–";
}
