// Who listens on a port: read from Linux's /proc (the TCP tables name the socket's inode, a process's fd links
// name the inodes it holds), so that "port in use" can name the process. Empty where /proc cannot tell.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const LISTEN = "0A";

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1] ?? "";
      if (fields[3] === LISTEN && Number.parseInt(local.split(":")[1] ?? "", 16) === port && fields[9])
        inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** "pid 1234 (java … kafka.Kafka …)" for the process listening on the port, or "" when it cannot be found. */
export function listenerOf(port: number): string {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return "";
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
        return `pid ${pid} (${command.length > 80 ? `${command.slice(0, 77)}...` : command})`;
      }
    }
  }
  return "";
}
