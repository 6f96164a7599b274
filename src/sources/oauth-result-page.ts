// The small HTML page an OAuth callback answers in the administrator's browser (the consent
// popup): what happened and what to do next. Every value is escaped.
export function oauthResultPage(title: string, lead: string, detail: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · mailgate</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>${escape(title)}</h1><p>${escape(lead)}</p>${detail ? `<p>${escape(detail)}</p>` : ""}<p>You can close this window.</p>
</body></html>`;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
