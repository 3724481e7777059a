// Node 20 is this project's local runtime; the SDK's notice about its future Node 22 floor is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
