/**
 * Light or dark: the system's choice until the visitor picks one with the toggle (remembered in
 * localStorage — a display preference, nothing about the session). The stylesheet reads
 * `data-theme` on <html>.
 */
export type Theme = "light" | "dark";
const STORAGE_KEY = "altiplano-theme";

function stored(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null;
  }
}

export function initialTheme(): Theme {
  return stored() ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

export function applyTheme(theme: Theme, options: { remember: boolean }): void {
  document.documentElement.dataset.theme = theme;
  if (!options.remember) return;
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Storage off (private mode): the choice lasts for this page only.
  }
}
