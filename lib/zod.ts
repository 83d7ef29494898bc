// zod for every schema that goes into an action: zod/mini (the same zod 4 core, checks passed to `.check()`) with
// classic zod's English messages. Classic zod (`from "zod"`) costs a step's bundle about 65 KB and 8 ms more to load;
// mini has no messages of its own ("Invalid input" for every issue), so the English locale is configured here, once,
// and every module imports zod from this file: `import * as z from "../zod.ts"`. The locale is imported by its own
// path: `z.locales.en()` would bundle all of zod's locales (about 260 KB).
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
