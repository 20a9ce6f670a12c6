/**
 * Escapes text for HTML: element content and quoted attribute values. Every string the server writes into
 * a page that did not come from this file goes through it.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** What the page's script needs to know about the server, written into the page as JSON. */
export interface PageConfig {
  /** Where the dashboard is served: `/ui`. */
  uiPath: string;
  /** The REST path of ListOperations' collection: `/v1/operations`, or with `{parent}` in it. */
  listPath: string;
  /** The REST prefix of operation names: `/v1` (an operation is `/v1/{name}`). */
  restPrefix: string;
  /** The parent pattern of operation names ("" when they have none): the page then asks which parent. */
  parentPattern: string;
  /** Whether calls need credentials: the page asks for an API key or a token. */
  auth: boolean;
  /** Whether the live stream is served. */
  live: boolean;
  /** The served long-running methods, each with its metadata type (to name an operation's method). */
  methods: readonly { name: string; metadataType: string }[];
  /** Custom methods on operations (pause, resume…): the command and its REST binding. */
  controls: readonly { command: string; httpMethod: string; path: string; body: string }[];
}

/**
 * The one page of the dashboard: a shell the script fills in (list or detail, by the URL). It holds no
 * inline script or style, so the Content-Security-Policy can forbid both.
 */
export function pageShell(config: PageConfig): string {
  const base = escapeHtml(config.uiPath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="longrun-config" content="${escapeHtml(JSON.stringify(config))}">
<title>longrun</title>
<link rel="stylesheet" href="${base}/static/style.css">
<script type="module" src="${base}/static/app.js"></script>
</head>
<body>
<header><a class="brand" href="${base}/">longrun</a><span id="live" class="live" role="status" aria-live="polite"></span></header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p>The dashboard needs JavaScript; the REST API is at ${escapeHtml(config.listPath)}.</p></noscript>
</body>
</html>
`;
}
