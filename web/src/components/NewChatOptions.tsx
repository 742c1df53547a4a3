/** A new chat's settings, before its first message: the model and an optional system prompt. */
import type { NewChatSettings } from "../chat/use-chat.js";

export function NewChatOptions(props: { models: string[]; modelsError: string | null; settings: NewChatSettings; onChange: (settings: NewChatSettings) => void }) {
  const { settings } = props;
  return (
    <section class="new-chat-options" aria-label="New chat settings">
      <h2>New chat</h2>
      <label for="model-picker">Model</label>
      <select id="model-picker" value={settings.model} onChange={(e) => props.onChange({ ...settings, model: e.currentTarget.value })}>
        {props.models.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
      {props.modelsError && <p class="small error">{props.modelsError}</p>}
      <label for="system-prompt">System prompt (optional)</label>
      <textarea
        id="system-prompt"
        rows={3}
        placeholder="For example: You are a concise assistant who answers in English."
        value={settings.systemPrompt}
        onInput={(e) => props.onChange({ ...settings, systemPrompt: e.currentTarget.value })}
      />
    </section>
  );
}
