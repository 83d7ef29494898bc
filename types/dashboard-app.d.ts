// The dashboard's browser script, bundled by scripts/build.ts (functions/dashboard/browser) and inlined in the page.
declare module "dashboard-app:script" {
  const script: string;
  export default script;
}
