/** Switches between the light and dark theme (the system's until the visitor chooses). */
import { useState } from "preact/hooks";
import { applyTheme, initialTheme, type Theme } from "../chat/theme.js";
import { MoonIcon, SunIcon } from "./icons.js";

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => initialTheme());
  const dark = theme === "dark";
  return (
    <button
      type="button"
      class="icon-button theme-toggle"
      aria-label="Dark theme"
      title={dark ? "Switch to the light theme" : "Switch to the dark theme"}
      aria-pressed={dark}
      onClick={() => {
        const next: Theme = dark ? "light" : "dark";
        applyTheme(next, { remember: true });
        setTheme(next);
      }}
    >
      {dark ? <SunIcon /> : <MoonIcon />}
    </button>
  );
}
