/**
 * The links between the web app's pages, in every page's top bar; the current one is marked. The
 * operators' dashboard is linked only for an admin's session (and on the dashboard itself).
 */
export type PageId = "chat" | "arena" | "leaderboard" | "dashboard";

const PAGES: ReadonlyArray<{ id: PageId; href: string; label: string; adminOnly?: true }> = [
  { id: "chat", href: "/", label: "Chat" },
  { id: "arena", href: "/arena", label: "Arena" },
  { id: "leaderboard", href: "/leaderboard", label: "Leaderboard" },
  { id: "dashboard", href: "/dashboard", label: "Dashboard", adminOnly: true },
];

export function PageNav({ current, admin = false }: { current: PageId; admin?: boolean }) {
  return (
    <nav class="page-nav" aria-label="Pages">
      {PAGES.filter((p) => p.adminOnly !== true || admin || p.id === current).map((p) => (
        <a key={p.id} href={p.href} aria-current={p.id === current ? "page" : undefined}>
          {p.label}
        </a>
      ))}
    </nav>
  );
}
