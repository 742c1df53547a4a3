/** Applies usableLanguageTag to `navigator.language` before uPlot reads it (see language-tag.ts). */
import { acceptedByIntl, usableLanguageTag } from "./language-tag.js";

const tag = usableLanguageTag(navigator.language, acceptedByIntl);
if (tag !== navigator.language) Object.defineProperty(navigator, "language", { value: tag, configurable: true });
