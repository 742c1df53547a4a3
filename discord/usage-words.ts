/**
 * Formats the gateway's usage report for a Discord user. Pure. The gateway decides the shape;
 * this shows every number it finds, with readable labels, nested objects flattened one level.
 */

const MAX_LINES = 20;

function label(key: string): string {
  const words = key.replace(/[_.]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function formatValue(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return value.toLocaleString("en-US");
  if (typeof value === "string" && value.length <= 64 && !/^(object|usage)$/.test(value)) return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  return null;
}

/** Lines like "**Requests today:** 12" for each number (or short text) in the usage report. */
export function usageToWords(usage: Record<string, unknown> | null): string {
  if (usage === null) return "Usage is not available on this deployment.";
  const lines: string[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(obj)) {
      if (key === "object" || key === "user") continue;
      if (value && typeof value === "object" && !Array.isArray(value) && depth < 2) {
        walk(value as Record<string, unknown>, `${prefix}${key} `, depth + 1);
        continue;
      }
      const shown = formatValue(value);
      if (shown !== null) lines.push(`**${label(prefix + key)}:** ${shown}`);
    }
  };
  walk(usage, "", 0);
  if (lines.length === 0) return "No usage recorded yet.";
  return ["Your usage:", ...lines.slice(0, MAX_LINES)].join("\n");
}
