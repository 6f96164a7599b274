// A bare receiver for bench:webhooks, run as its own process so it does not share mailgate's
// event loop: answers 200 to every POST and reports how many it got.
import http from "node:http";

let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    count++;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});
process.on("message", (msg: { cmd: string }) => {
  if (msg.cmd === "count") {
    const cpu = process.cpuUsage();
    process.send?.({ count, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  }
  if (msg.cmd === "reset") {
    count = 0;
    process.send?.({ reset: true });
  }
  if (msg.cmd === "stop") server.close(() => process.exit(0));
});
