// Preloaded (`node --require`) into the local stack's own child processes (the S3 server): a child exits
// once the stack's process is gone, however that ended (SIGKILL included), so no server outlives the stack.
// A process whose parent dies is adopted by another (init or a subreaper), so a changed ppid means "gone".
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
