import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, wherever the command is run from. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
/** Everything the local stack writes (jars, data, logs, pid state) lives here; git-ignores it. */
export const stackDir = process.env.STACK_DIR ?? join(repoRoot, ".stack");
export const stateFile = join(stackDir, "state.json");
