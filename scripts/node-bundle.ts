// How code is bundled for OpenWhisk's Node.js runtime: one minified CommonJS file for Node 20. The actions
// (build.ts) and the lossless feed's action (feed-provider.ts) add their entry, output and extras. No imports at
// run time, so the feed provider's image need not carry the build.
import type { BuildOptions } from "esbuild";

export const NODE_BUNDLE = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  logLevel: "error",
} as const satisfies BuildOptions;
