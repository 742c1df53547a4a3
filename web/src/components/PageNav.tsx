/** The links between the web app's pages, in every page's top bar; the current one is marked. */
export type PageId = "chat" | "arena" | "leaderboard";

const PAGES: ReadonlyArray<{ id: PageId; href: string; label: string }> = [
  { id: "chat", href: "/", label: "Chat" },
  { id: "arena", href: "/arena", label: "Arena" },
  { id: "leaderboard", href: "/leaderboard", label: "Leaderboard" },
];

export function PageNav({ current }: { current: PageId }) {
  return (
    <nav class="page-nav" aria-label="Pages">
      {PAGES.map((p) => (
        <a key={p.id} href={p.href} aria-current={p.id === current ? "page" : undefined}>
          {p.label}
        </a>
      ))}
    </nav>
  );
}
