// Loaded by ava into every test process (package.json "ava.require"). Once ava has every result of a file, the
// process ends: a client left connected (KafkaJS reconnects after a broker restart, say) must not keep it alive, or
// ava waits for it forever and the run never ends.
import { registerCompletionHandler } from "ava";

registerCompletionHandler(() => process.exit());
