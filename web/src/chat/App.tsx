/** The chat page's root: sign-in (components/SessionGate.tsx), then the chat. */
import { SessionGate } from "../components/SessionGate.js";
import { ChatApp } from "./ChatApp.js";

export function App() {
  return <SessionGate>{(props) => <ChatApp {...props} />}</SessionGate>;
}
