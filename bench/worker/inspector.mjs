// V8's inspector on workerd's isolates: a minimal Chrome DevTools Protocol client, and the
// isolate time one Worker spends per request, sampled (profile.mjs, cost.mjs).

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
export async function connect(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector connection to ${url} failed`));
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    const p = msg.id !== undefined && pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${msg.error.message}`));
    else p.resolve(msg.result);
  };
  return {
    send(method, params = {}) {
      const mid = ++id;
      ws.send(JSON.stringify({ id: mid, method, params }));
      return new Promise((resolve, reject) => pending.set(mid, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

/** The sampling profiler on the isolate of `worker` (its Miniflare name) around `run()`. */
export async function sampled(inspectorPort, worker, intervalUs, run) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.title?.endsWith(`:${worker}`));
  if (!target) throw new Error(`no inspector target for ${worker}: ${targets.map((t) => t.title).join(", ")}`);
  const cdp = await connect(target.webSocketDebuggerUrl);
  try {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await cdp.send("Profiler.start");
    const result = await run();
    const { profile } = await cdp.send("Profiler.stop");
    return { result, profile };
  } finally {
    cdp.close();
  }
}

/**
 * Microseconds of the profile spent in the Worker's own code: JS, wasm, the runtime builtins and
 * GC they ran. "(idle)" and "(program)" (native code outside any JS frame: workerd's event loop and
 * I/O, shared by every Worker on the thread) are left out, as profile.mjs does.
 */
export function busyUs(profile, intervalUs) {
  let busy = 0;
  for (const n of profile.nodes) {
    if (!["(idle)", "(program)"].includes(n.callFrame.functionName)) busy += n.hitCount ?? 0;
  }
  // V8 samples a thread only while it runs, so busy samples times the interval (not a share of
  // the wall-clock span) is the busy time.
  return busy * intervalUs;
}
