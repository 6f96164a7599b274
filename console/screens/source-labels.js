// How sources are named on screen: kinds, roles, schedules and message counts in the guide's words.
export const KIND_LABELS = { imap: "IMAP", gmail: "Gmail", graph: "Microsoft 365", api: "API (raw MIME)", smtp: "SMTP (forwarded to mailgate)", "inbound-webhook": "Mail service (webhook)" };

export function scheduleLabel(schedule) {
  switch (schedule?.mode) {
    case "scheduled":
      return `Scheduled: ${schedule.cron.join(", ")} (${schedule.timezone})`;
    case "manual":
      return "Manual (Process Now)";
    default:
      return "Continuous";
  }
}

const COUNTED = [
  ["ticket_created", "ticket", "tickets"],
  ["note_added", "note", "notes"],
  ["lead_created", "lead", "leads"],
  ["received", "waiting", "waiting"],
  ["unrouted", "unrouted", "unrouted"],
  ["failed", "failed", "failed"],
  ["duplicate", "duplicate", "duplicates"],
  ["ignored", "ignored", "ignored"],
];

export function countsLabel(counts) {
  if (!counts) return "";
  return COUNTED.filter(([key]) => counts[key] > 0)
    .map(([key, one, many]) => `${counts[key]} ${counts[key] === 1 ? one : many}`)
    .join(" · ");
}

/** Test Connection's answer in words; with an SMTP block, each half on its own ("IMAP: … SMTP: …"). */
export function testResultText(result) {
  if (!result.checks) return incomingText(result);
  const { imap, smtp } = result.checks;
  return [imap ? `IMAP: ${incomingText(imap)}` : null, `SMTP: ${smtpText(smtp)}`].filter(Boolean).join(" ");
}

function smtpText(check) {
  return check.ok ? `Login OK as ${check.details.user} on ${check.details.server}.` : `Login failed: ${check.error.message}`;
}

function incomingText(result) {
  if (!result.ok) return `Connection failed: ${result.error.message}`;
  const d = result.details ?? {};
  if (d.kind === "inbound-webhook") return `Connection OK: the ${d.provider} URL to give the service is ${d.url}.`;
  if (d.folder !== undefined) return `Connection OK: folder ${d.folder} holds ${d.messageCount} message${d.messageCount === 1 ? "" : "s"}.`;
  const facts = Object.entries(d)
    .filter(([, v]) => typeof v !== "object")
    .map(([k, v]) => `${k} ${v}`);
  return `Connection OK${facts.length ? `: ${facts.join(", ")}` : ""}.`;
}
