/** Enter sends, Shift+Enter makes a newline; Enter that confirms an input method's text does neither. */
export function submitsOnEnter(event: KeyboardEvent): boolean {
  return event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229;
}
