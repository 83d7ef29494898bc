// npm run stack -- up [--in-memory] | down | status | reset
import { rmSync } from "node:fs";
import { join } from "node:path";
import { clientEnv, StackError, stackDown, stackStatus, stackUp } from "./stack/lifecycle.ts";
import { stackDir } from "./stack/paths.ts";

async function main(command: string | undefined, flags: string[]): Promise<number> {
  switch (command) {
    case "up": {
      const state = await stackUp({ inMemory: flags.includes("--in-memory") });
      console.log("Clients connect with (commands run here find these by themselves):");
      for (const [name, value] of Object.entries(clientEnv(state))) {
        // Credentials stay out of terminals and logs: the stack's own are in .stack/ (mode 0600).
        console.log(`  ${name}=${/PASSWORD|APIKEY/.test(name) ? "(a secret, not shown)" : value}`);
      }
      return 0;
    }
    case "down":
      await stackDown();
      return 0;
    case "status": {
      const status = await stackStatus();
      for (const line of status.lines) console.log(line);
      return status.up ? 0 : 1;
    }
    case "reset":
      await stackDown();
      for (const part of ["kafka/data", "couch/data"]) rmSync(join(stackDir, part), { recursive: true, force: true });
      console.log("stack: data removed");
      return 0;
    default:
      console.error("usage: npm run stack -- up [--in-memory] | down | status | reset");
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof StackError ? `stack: ${err.message}` : err);
    process.exit(1);
  },
);
