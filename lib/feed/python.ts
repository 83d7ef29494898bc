// What the Kafka provider (Python 2) produces, reproduced where it is visible to actions or limits:
// base64 in MIME lines of 76 characters (str.encode("base64") then strip()), and the length of json.dumps (", " and
// ": " separators, non-ASCII escaped as \uXXXX) that its payload cap is measured in.
import { isRecord } from "../narrow.ts";

export function pyBase64(data: Buffer): string {
  const b64 = data.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\n");
}

function stringLength(s: string): number {
  // JSON.stringify escapes quotes, backslashes and control characters; Python also escapes every non-ASCII code unit.
  let n = JSON.stringify(s).length;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e) n += 5;
  return n;
}

export function pyJsonLength(v: unknown): number {
  if (v === null || v === undefined) return 4;
  if (typeof v === "string") return stringLength(v);
  if (typeof v === "number" || typeof v === "boolean") return JSON.stringify(v).length;
  if (Array.isArray(v)) {
    if (v.length === 0) return 2;
    return 2 + v.reduce<number>((n, item) => n + pyJsonLength(item), 0) + 2 * (v.length - 1);
  }
  const entries = isRecord(v) ? Object.entries(v) : [];
  if (entries.length === 0) return 2;
  return (
    2 + entries.reduce((n, [k, item]) => n + stringLength(k) + 2 + pyJsonLength(item), 0) + 2 * (entries.length - 1)
  );
}
