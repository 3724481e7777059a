/**
 * How every Lambda bundle is built, beyond NodejsFunction's own options: shared by `LedgerFunction` and
 * by the bench and the bundle test (`bench/bundle.ts`), which must build exactly as the CDK does.
 */

/** ESM bundles have no `require`; CommonJS dependencies bundled into them still call it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __ledgerCreateRequire } from 'node:module'; const require = __ledgerCreateRequire(import.meta.url);";

/**
 * Packages replaced in every bundle (esbuild `alias`; paths relative to the project root, esbuild's
 * working directory): the SDK's credential chain by its first link, the one Lambda uses.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './functions/commons/lambda-credentials.ts',
};
